import { readFileSync } from 'node:fs';
import type { ClientConfig } from 'pg';
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

/** How lock names map to advisory keys (docs/postgresql.md, "Lock keys"). */
export type PostgresLockKeyStyle = 'wide' | 'tooz';

export interface PostgresSettings {
  /** What `pg.Client` is given (no connection string: our own options never reach it). */
  client: ClientConfig;
  password: string | undefined;
  connectTimeoutMs: number;
  membershipTimeoutMs: number;
  /** Locks end with the session here; `lock_timeout` is taken for URL compatibility and only bounds the beat interval. */
  lockTimeoutMs: number;
  /** Server-side `statement_timeout` of every statement. */
  commandTimeoutMs: number;
  namespace: string;
  lockKeyStyle: PostgresLockKeyStyle;
  schema: string;
  tablePrefix: string;
}

/** libpq's connection-string names that pg understands, tooz's overrides (`host`, `port`, `dbname`), and ours. */
const KNOWN = [
  'host',
  'port',
  'dbname',
  'user',
  'password',
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'connect_timeout',
  'application_name',
  'options',
  'keepalives',
  'keepalives_idle',
  'statement_timeout',
  ...TIMEOUT_OPTIONS,
  'namespace',
  'lock_key_style',
  'schema',
  'table_prefix',
] as const;

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/** An identifier we put into SQL unquoted-safe: lower case, digits and `_`, as PostgreSQL folds them. */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function identifier(name: string, value: string, maxLength: number, url: URL): string {
  if (!IDENTIFIER.test(value) || value.length > maxLength) {
    throw new CoordinationError(
      `URL option ${name}=${value} in ${redactUrl(url)} must be lower-case letters, digits and _ ` +
        `(not starting with a digit), at most ${maxLength} characters`,
    );
  }
  return value;
}

function sslConfig(query: Map<string, string>): ClientConfig['ssl'] {
  const mode = query.get('sslmode') ?? (query.has('sslrootcert') ? 'verify-full' : 'disable');
  if (!SSL_MODES.includes(mode)) {
    throw new CoordinationError(`URL option sslmode=${mode} must be one of ${SSL_MODES.join(', ')}`);
  }
  // pg cannot fall back from TLS to plain text: allow/prefer connect without TLS (use require to insist).
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  const files = {
    ...(query.get('sslrootcert') ? { ca: readFileSync(query.get('sslrootcert')!, 'utf8') } : {}),
    ...(query.get('sslcert') ? { cert: readFileSync(query.get('sslcert')!, 'utf8') } : {}),
    ...(query.get('sslkey') ? { key: readFileSync(query.get('sslkey')!, 'utf8') } : {}),
  };
  if (mode === 'verify-full') return files;
  if (mode === 'verify-ca') return { ...files, checkServerIdentity: () => undefined };
  // require (libpq: encrypt, verify only with a root certificate) and no-verify.
  return mode === 'require' && files.ca
    ? { ...files, checkServerIdentity: () => undefined }
    : { ...files, rejectUnauthorized: false };
}

function boolOption(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return ['1', 't', 'true', 'on', 'y', 'yes'].includes(value.trim().toLowerCase());
}

/**
 * A `postgresql://` / `postgres://` URL read as libpq and tooz read it:
 * credentials from the user info (or `user=`/`password=`), `host`, `port`
 * and `dbname` overriding the URL's parts (tooz), libpq's `sslmode`,
 * `connect_timeout` (seconds), `application_name`, `options`, the session
 * timeouts every driver reads (`timeout`, `membership_timeout`, `lock_timeout`),
 * and our own `namespace`, `lock_key_style`, `schema`, `table_prefix`.
 * An options object in code (ms) wins over the URL.
 */
export function postgresSettings(url: URL, options: CoordinatorOptions): PostgresSettings {
  assertKnownCodeOptions(options, url);
  const query = queryOptions(url);
  assertKnownOptions(query, KNOWN, url);
  const style = (query.get('lock_key_style') ?? 'wide') as PostgresLockKeyStyle;
  if (style !== 'wide' && style !== 'tooz') {
    throw new CoordinationError(`URL option lock_key_style=${style} must be wide or tooz`);
  }
  const schema = identifier('schema', query.get('schema') ?? 'public', 63, url);
  // Names we add to it are at most 23 characters (`collect_garbage`, `ddl_<12 hex>`): 63 in all.
  const tablePrefix = identifier('table_prefix', query.get('table_prefix') ?? 'coordination_', 40, url);
  const portText = query.get('port') ?? url.port;
  if (portText !== '' && !/^\d+$/.test(portText))
    throw new CoordinationError(`URL option port=${portText} must be a number`);
  const host = query.get('host') ?? decodedUrlPart(url, 'hostname').replace(/^\[|\]$/g, '');
  if (!host) throw new CoordinationError(`${redactUrl(url)} names no host`);
  const database = query.get('dbname') ?? decodedUrlPart(url, 'pathname').replace(/^\/+/, '');
  const user = query.get('user') ?? (url.username ? decodedUrlPart(url, 'username') : undefined);
  const password = query.get('password') ?? (url.password ? decodedUrlPart(url, 'password') : undefined);
  const { membershipTimeoutMs, lockTimeoutMs } = sessionTimeouts(query, options);
  const connectTimeoutMs = durationOption(query, 'connect_timeout', options.connectTimeoutMs, 5_000);
  const commandTimeoutMs = durationOption(query, 'statement_timeout', undefined, 30_000);
  const keepAlive = boolOption(query.get('keepalives'), true);
  const keepAliveIdle = query.get('keepalives_idle');
  if (keepAliveIdle !== undefined && !/^\d+$/.test(keepAliveIdle)) {
    throw new CoordinationError(`URL option keepalives_idle=${keepAliveIdle} must be a number of seconds`);
  }
  return {
    client: {
      host,
      port: portText ? Number(portText) : 5432,
      database: database || undefined,
      user,
      password,
      ssl: sslConfig(query),
      application_name: query.get('application_name') ?? 'nestjs-coordination',
      options: query.get('options'),
      keepAlive,
      keepAliveInitialDelayMillis: keepAliveIdle === undefined ? 10_000 : Number(keepAliveIdle) * 1000,
      // Not a startup parameter (PgBouncer refuses those it does not know): set after connecting.
      // The client-side limit is the server's plus a margin: past it the network, not the query, is stuck.
      query_timeout: commandTimeoutMs + 5_000,
    },
    password,
    connectTimeoutMs,
    membershipTimeoutMs,
    lockTimeoutMs,
    commandTimeoutMs,
    namespace: query.get('namespace') ?? `${schema}.${tablePrefix}`,
    lockKeyStyle: style,
    schema,
    tablePrefix,
  };
}
