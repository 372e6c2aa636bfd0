import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis, RedisOptions } from 'ioredis';
import { CoordinationError } from '../../errors.js';
import { hasSocketErrorCode } from '../socket-errors.js';
import type { RedisSettings } from './redis-options.js';
import { ALL_SCRIPTS } from './scripts/index.js';

/** ioredis is an optional peer: loaded only when a `redis://` coordinator starts. */
async function loadIoRedis(): Promise<{ Redis: typeof Redis }> {
  try {
    const { Redis } = await import('ioredis');
    return { Redis };
  } catch (error) {
    throw new CoordinationError('redis:// needs the ioredis package: npm install ioredis', { cause: error });
  }
}

function clientOptions(settings: RedisSettings): RedisOptions {
  const tls = settings.tls
    ? {
        ...(settings.tlsFiles.cert ? { cert: readFileSync(settings.tlsFiles.cert) } : {}),
        ...(settings.tlsFiles.key ? { key: readFileSync(settings.tlsFiles.key) } : {}),
        ...(settings.tlsFiles.ca ? { ca: readFileSync(settings.tlsFiles.ca) } : {}),
      }
    : undefined;
  const common: RedisOptions = {
    db: settings.db,
    username: settings.username,
    password: settings.password,
    tls,
    connectTimeout: settings.connectTimeoutMs,
    commandTimeout: settings.commandTimeoutMs,
    keepAlive: settings.keepAlive ? 10_000 : 0,
    lazyConnect: true,
    // A call while the connection is down fails at once instead of waiting in a queue for ever.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResubscribe: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
  };
  if (!settings.sentinel) return { ...common, host: settings.host, port: settings.port };
  const { sentinel } = settings;
  return {
    ...common,
    name: sentinel.name,
    sentinels: sentinel.hosts,
    sentinelUsername: sentinel.username,
    sentinelPassword: sentinel.password,
    enableTLSForSentinelMode: sentinel.tls,
    sentinelRetryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
  };
}

/**
 * Open a client with every script defined on it. Fails within the connect
 * timeout, never retrying for ever: the client is shut down on failure.
 */
export async function openClient(settings: RedisSettings, name: string, subscriber = false): Promise<Redis> {
  const { Redis } = await loadIoRedis();
  const options = clientOptions(settings);
  const client = new Redis({
    ...options,
    // `CLIENT LIST` shows whose connection it is (names take no spaces).
    connectionName: name,
    ...(subscriber ? { enableOfflineQueue: true, commandTimeout: undefined } : {}),
  });
  // Errors reach the calls that fail and the close events; the last one explains a failed start.
  let lastError: Error | undefined;
  client.on('error', (error: Error) => (lastError = error));
  for (const script of ALL_SCRIPTS) script.define(client);
  const where = settings.sentinel
    ? `Redis primary ${settings.sentinel.name} via sentinels ${settings.sentinel.hosts.map((h) => `${h.host}:${h.port}`).join(', ')}`
    : `Redis at ${settings.host}:${settings.port}`;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new RedisUnreachable(`${where}: no answer within ${settings.connectTimeoutMs} ms`)),
          settings.connectTimeoutMs,
        );
      }),
    ]);
  } catch (error) {
    client.disconnect();
    if (error instanceof RedisUnreachable) throw error;
    const reason = lastError?.message ?? (error instanceof Error ? error.message : String(error));
    // No cause: ioredis's errors carry the command they failed on, AUTH's password included.
    throw new RedisUnreachable(`${where}: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** `start()` could not reach Redis: the message names where, and why, without credentials. */
export class RedisUnreachable extends Error {}

/** Errors meaning Redis could not be reached (or the connection dropped). */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof RedisUnreachable || error instanceof ReplicasBehind || error instanceof SessionUnsubscribed)
    return true;
  if (hasSocketErrorCode(error, ['NR_CLOSED'])) return true;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|connect ECONNREFUSED|Reached the max retries|All sentinels are unreachable|no answer within/.test(
      error.message,
    )
  );
}

/** ioredis's `commandTimeout` (tooz's `socket_timeout`) ran out. */
export function isTimeoutError(error: unknown): boolean {
  return error instanceof Error && error.message === 'Command timed out';
}

/** Too few replicas acknowledged a grant in time: a failover now could hand it to a second holder. */
export class ReplicasBehind extends Error {}

/**
 * A grant or an election refused because this session's subscription is not
 * confirmed (a connection down, or the session channel not subscribed again
 * yet): others may already see the session as gone (docs/redis.md#failover).
 */
export class SessionUnsubscribed extends Error {}

/**
 * Run one script, followed in the same pipeline by `WAIT replicas timeout`
 * when the primary has replicas (no extra round trip). The reply, or
 * `ReplicasBehind` when fewer replicas than asked acknowledged the write.
 * `undo` runs first then, so nothing stays granted that could be lost.
 */
export async function runAcknowledged(
  client: Redis,
  replicas: number,
  timeoutMs: number,
  run: (target: Redis | ChainableCommander) => unknown,
  what: string,
  undo?: (reply: unknown) => Promise<unknown>,
): Promise<unknown> {
  if (replicas === 0) return run(client);
  const pipeline = client.pipeline();
  run(pipeline);
  pipeline.wait(replicas, timeoutMs);
  const [[error, reply] = [null, null], [, acknowledged] = [null, 0]] = (await pipeline.exec()) ?? [];
  if (error) throw error;
  if (Number(acknowledged) < replicas) {
    await undo?.(reply).catch(() => undefined);
    throw new ReplicasBehind(
      `${what}: ${Number(acknowledged)} of ${replicas} replicas acknowledged it within ${timeoutMs} ms`,
    );
  }
  return reply;
}
