/**
 * docs/redis.md#fencing-tokens on a redis-server of this test's own: tokens
 * keep rising after Redis lost its data (FLUSHALL; SHUTDOWN NOSAVE and a
 * restart), because a missing counter starts from the server clock; and the
 * coordinator reconnects and subscribes again by itself after the restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Coordinator, getCoordinator } from '../../lib/index.js';
import { uid } from '../support/drivers.js';
import { type OwnServer, OwnServers, redisServerAvailable, until } from './redis-servers.js';

describe.runIf(redisServerAvailable() || Boolean(process.env.CI))('redis:// fencing tokens after data loss', () => {
  let servers: OwnServers;
  let server: OwnServer;
  const started: Coordinator[] = [];

  beforeAll(async () => {
    servers = new OwnServers();
    server = await servers.redis();
  }, 20_000);
  afterAll(async () => {
    for (const coordinator of started) if (coordinator.isStarted) await coordinator.stop().catch(() => undefined);
    await servers?.stopAll();
  });

  async function start(namespace = uid('ns')): Promise<Coordinator> {
    const url = `redis://127.0.0.1:${server.port}?namespace=${namespace}&socket_connect_timeout=2`;
    const coordinator = getCoordinator(url, uid('member'));
    started.push(coordinator);
    await coordinator.start();
    return coordinator;
  }

  /** Two tokens in a row on `name`, each acquire followed by a release. */
  async function twoTokens(coordinator: Coordinator, name: string): Promise<[bigint, bigint]> {
    const lock = coordinator.getLock(name);
    const tokens: bigint[] = [];
    for (let i = 0; i < 2; i++) {
      expect(await lock.acquire({ blocking: false })).toBe(true);
      tokens.push(lock.fencingToken!);
      expect(await lock.release()).toBe(true);
    }
    expect(tokens[1]! > tokens[0]!).toBe(true);
    return [tokens[0]!, tokens[1]!];
  }

  it('after FLUSHALL the next token is greater than every one before', async () => {
    const coordinator = await start();
    const name = uid('lock');
    const [, t2] = await twoTokens(coordinator, name);
    expect(typeof t2).toBe('bigint');
    await server.client().flushall();
    const lock = coordinator.getLock(name);
    expect(await lock.acquire({ blocking: false })).toBe(true);
    expect(lock.fencingToken! > t2, `${lock.fencingToken} after ${t2}`).toBe(true);
    expect(await lock.release()).toBe(true);
  });

  it('after SHUTDOWN NOSAVE and a restart: the coordinator is back by itself, and the next token is greater', async () => {
    const namespace = uid('ns');
    const coordinator = await start(namespace);
    const name = uid('lock');
    const [, t2] = await twoTokens(coordinator, name);
    await servers.restart(server);
    const lock = coordinator.getLock(name);
    // Reconnected and subscribed again without help: an acquire is granted again.
    await until(() => lock.acquire({ blocking: false }).catch(() => false), 10_000, 'granted after the restart');
    const t3 = lock.fencingToken!;
    expect(t3 > t2, `${t3} after ${t2}`).toBe(true);
    expect(await lock.release()).toBe(true);
    // 16 digits survive the Lua scripts intact (Lua 5.1 prints numbers with 14): consecutive tokens differ by 1.
    const [t4, t5] = await twoTokens(coordinator, name);
    expect(t4 > t3).toBe(true);
    expect(t5 - t4).toBe(1n);
    expect(String(t5).length).toBeGreaterThanOrEqual(16);
    // And through the queue: a pushed grant's token is read back from the grant record, digit for digit.
    expect(await lock.acquire({ blocking: false })).toBe(true);
    const waiter = (await start(namespace)).getLock(name);
    const waiting = waiter.acquire({ timeoutMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(waiter.isHeld).toBe(false);
    expect(await lock.release()).toBe(true);
    expect(await waiting).toBe(true);
    expect(waiter.fencingToken! > t5, `${waiter.fencingToken} after ${t5}`).toBe(true);
    expect(await waiter.release()).toBe(true);
  }, 30_000);
});
