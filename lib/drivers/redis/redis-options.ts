import type { CoordinatorOptions } from '../../core/coordinator-options.js';
import { CoordinationError } from '../../errors.js';
import {
  assertKnownCodeOptions,
  assertKnownOptions,
  decodedUrlPart,
  durationOption,
  queryOptions,
  redactUrl,
  sessionTimeouts,
  TIMEOUT_OPTIONS,
} from '../../core/url-options.js';

/** How lock names (and a group's leadership lock) map to keys shared with Python tooz. */
export type RedisLockKeyStyle = 'current' | 'legacy' | 'legacy_bytes';

export interface RedisSettings {
  host: string;
  port: number;
  db: number;
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
  tlsFiles: { cert?: string; key?: string; ca?: string };
  namespace: string;
  membershipTimeoutMs: number;
  lockTimeoutMs: number;
  /** Per-command limit (tooz's `socket_timeout`, which defaults to `timeout`). */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  keepAlive: boolean;
  lockKeyStyle: RedisLockKeyStyle;
  sentinel:
    | { name: string; hosts: { host: string; port: number }[]; username?: string; password?: string; tls: boolean }
    | undefined;
  /** With replicas, report a grant only once this many replicas acknowledged it (WAIT); 0 turns it off. */
  waitReplicas: number;
  /** ms `WAIT` may take before the acquire fails. */
  waitTimeoutMs: number;
}

/** tooz's names; `encoding` is accepted only as utf8 (the only one Node and tooz agree on by default). */
const KNOWN = [
  ...TIMEOUT_OPTIONS,
  'namespace',
  'encoding',
  'db',
  'retry_on_timeout',
  'socket_keepalive',
  'socket_timeout',
  'socket_connect_timeout',
  'health_check_interval',
  'ssl',
  'ssl_certfile',
  'ssl_keyfile',
  'ssl_ca_certs',
  'sentinel',
  'sentinel_fallback',
  'sentinel_username',
  'sentinel_password',
  'sentinel_ssl',
  'lock_key_style',
  'wait_replicas',
  'wait_timeout',
] as const;

/** oslo's `bool_from_string`: `1/t/true/on/y/yes` are true, anything else false. */
function boolOption(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return ['1', 't', 'true', 'on', 'y', 'yes'].includes(value.trim().toLowerCase());
}

function hostPort(text: string, url: URL): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text.trim());
  if (!match) {
    throw new CoordinationError(`sentinel_fallback=${text} must be host:port in ${redactUrl(url)}`);
  }
  return { host: match[1]!, port: Number(match[2]) };
}

/**
 * A `redis://` / `rediss://` URL read as tooz reads it: query options with
 * tooz's names and units (seconds), the database from a numeric path or
 * `db=`, credentials from the user info; an options object in code (ms) wins.
 */
export function redisSettings(url: URL, options: CoordinatorOptions): RedisSettings {
  assertKnownCodeOptions(options, url);
  const query = queryOptions(url);
  assertKnownOptions(query, KNOWN, url);
  if (!url.hostname) {
    throw new CoordinationError(`${redactUrl(url)} names no host; Unix sockets are not supported by redis://`);
  }
  const encoding = query.get('encoding');
  if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) {
    throw new CoordinationError(`URL option encoding=${encoding} is not supported; ids are always UTF-8`);
  }
  const { timeoutMs, membershipTimeoutMs, lockTimeoutMs } = sessionTimeouts(query, options);
  const path = url.pathname.replace(/^\/+/, '');
  const dbText = query.get('db') ?? (/^\d+$/.test(path) ? path : '0');
  if (!/^\d+$/.test(dbText)) throw new CoordinationError(`URL option db=${dbText} must be a database number`);
  const style = (query.get('lock_key_style') ?? 'current') as RedisLockKeyStyle;
  if (!['current', 'legacy', 'legacy_bytes'].includes(style)) {
    throw new CoordinationError(`URL option lock_key_style=${style} must be current, legacy or legacy_bytes`);
  }
  const waitReplicas = query.get('wait_replicas') ?? '1';
  if (!/^\d+$/.test(waitReplicas)) {
    throw new CoordinationError(`URL option wait_replicas=${waitReplicas} must be a number of replicas (0: off)`);
  }
  const sentinelName = query.get('sentinel');
  const tls = url.protocol === 'rediss:' || boolOption(query.get('ssl'), false);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    db: Number(dbText),
    username: url.username ? decodedUrlPart(url, 'username') : undefined,
    password: url.password ? decodedUrlPart(url, 'password') : undefined,
    tls,
    tlsFiles: { cert: query.get('ssl_certfile'), key: query.get('ssl_keyfile'), ca: query.get('ssl_ca_certs') },
    namespace: query.get('namespace') ?? '_tooz',
    membershipTimeoutMs,
    lockTimeoutMs,
    commandTimeoutMs: durationOption(query, 'socket_timeout', undefined, timeoutMs),
    connectTimeoutMs: durationOption(query, 'socket_connect_timeout', options.connectTimeoutMs, 5_000),
    keepAlive: boolOption(query.get('socket_keepalive'), true),
    lockKeyStyle: style,
    sentinel:
      sentinelName === undefined
        ? undefined
        : {
            name: sentinelName,
            hosts: [
              { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 26379 },
              ...url.searchParams
                .getAll('sentinel_fallback')
                .filter(Boolean)
                .map((text) => hostPort(text, url)),
            ],
            username: query.get('sentinel_username'),
            password: query.get('sentinel_password'),
            tls: boolOption(query.get('sentinel_ssl'), false),
          },
    waitReplicas: Number(waitReplicas),
    waitTimeoutMs: durationOption(query, 'wait_timeout', undefined, 1_000),
  };
}
