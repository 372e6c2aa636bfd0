import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { CoordinationError, CoordinatorConnectionError } from '../../errors.js';
import { hasSocketErrorCode } from '../socket-errors.js';
import type { PostgresSettings } from './postgres-options.js';
import type { SchemaNames } from './schema-names.js';
import { newSessionKey } from './lock-keys.js';
import { MUTEX_CLASS, openSessionStatement, schemaScript, sessionCheckStatement } from './sql/index.js';

/** pg is an optional peer: loaded only when a `postgresql://` coordinator starts. */
async function loadPg(): Promise<{ Client: typeof Client }> {
  try {
    const pg = await import('pg');
    return { Client: (pg.default ?? pg).Client };
  } catch (error) {
    throw new CoordinationError('postgresql:// needs the pg package: npm install pg', { cause: error });
  }
}

/**
 * Open one connection. Fails within the connect timeout, never retrying for
 * ever: the socket is destroyed on failure.
 */
export async function openClient(settings: PostgresSettings): Promise<Client> {
  const { Client } = await loadPg();
  const client = new Client({ ...settings.client, connectionTimeoutMillis: settings.connectTimeoutMs });
  // Reported through the calls that fail and the driver's own 'end' handler; an 'error' without a listener would crash.
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new CoordinatorConnectionError(`no answer within ${settings.connectTimeoutMs} ms`)),
          settings.connectTimeoutMs,
        );
      }),
    ]);
    await client.query(`SET statement_timeout = ${Math.round(settings.commandTimeoutMs)}`);
  } catch (error) {
    void client.end().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/**
 * Refuse a transaction-mode pooler before anything else: session-level
 * advisory locks need one server session for the whole connection. `client`
 * takes a session advisory lock on a random key; a second, short-lived
 * connection must then land on another server session, one that does not
 * hold the key, and `client`'s next statement on the same one. Through a
 * transaction pool the idle server connection (holding the key) is handed
 * to the probe, or the next statement moves. Unnamed statements only:
 * a pooler that moves statements loses named ones.
 */
export async function refuseTransactionPooler(client: Client, settings: PostgresSettings): Promise<void> {
  const key = String(BigInt.asIntN(64, BigInt(`0x${randomBytes(8).toString('hex')}`)));
  const held = `SELECT pg_backend_pid() AS pid, EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1::bigint) AS held`;
  const first = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_advisory_lock($1::bigint)', [
    key,
  ]);
  try {
    const probe = await openClient(settings);
    let probed: { pid: number; held: boolean };
    try {
      probed = (await probe.query<{ pid: number; held: boolean }>(held, [key])).rows[0]!;
    } finally {
      await probe.end().catch(() => undefined);
    }
    const again = (await client.query<{ pid: number; held: boolean }>(held, [key])).rows[0]!;
    if (probed.pid === first.rows[0]!.pid || probed.held || again.pid !== first.rows[0]!.pid || !again.held) {
      throw new CoordinationError(
        'postgresql:// needs session-level advisory locks, but this connection does not keep one server session: ' +
          'it looks like a transaction-mode pooler (e.g. PgBouncer with pool_mode=transaction). Connect to ' +
          'PostgreSQL directly or through a session-mode pool.',
      );
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
  }
}

/**
 * Create our schema, tables and functions unless this version is there
 * already (one round trip then). Safe against concurrent creators: they
 * take turns on a transaction-level advisory lock, and every statement is
 * `IF NOT EXISTS` or `OR REPLACE`.
 */
export async function ensureSchema(client: Client, names: SchemaNames): Promise<void> {
  const { script, marker } = schemaScript(names);
  const markerFound = async () =>
    (
      await client.query<{ found: boolean }>({
        // Read from pg_proc itself: a lookup by name (to_regprocedure) may answer from a stale cache.
        name: 'nc_schema_marker',
        text:
          'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace s ON s.oid = p.pronamespace ' +
          'WHERE s.nspname = $1 AND p.proname = $2) AS found',
        values: [names.schema, marker],
      })
    ).rows[0]?.found === true;
  if (await markerFound()) return;
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${MUTEX_CLASS}, hashtext('ddl ${names.schema}.${names.prefix}'))`);
    // Created while we waited: replacing views and functions in use could deadlock with their users.
    if (!(await markerFound())) await client.query(script);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Make `client` the session: take its key and write its row (`open_session`;
 * a fresh key while the old one is still held by a half-open connection),
 * then check that the next statement runs on the same server session (a
 * transaction-mode pooler would move it). Answers the key taken.
 */
export async function openSession(
  client: Client,
  names: SchemaNames,
  session: { sessionKey: bigint; memberId: string; timeoutMs: number; reopen: boolean },
): Promise<bigint> {
  let { sessionKey } = session;
  let pid: number | null = null;
  for (let attempt = 0; pid === null; attempt++) {
    if (attempt === 5) throw new CoordinationError(`Could not take a session key for member ${session.memberId}`);
    const { rows } = await client.query<{ pid: number | null }>({
      name: openSessionStatement.name,
      text: openSessionStatement.text(names),
      values: [String(sessionKey), session.memberId, session.timeoutMs, session.reopen],
    });
    pid = rows[0]!.pid;
    if (pid === null) sessionKey = newSessionKey();
  }
  const { rows } = await client.query<{ pid: number; held: boolean }>({
    name: sessionCheckStatement.name,
    text: sessionCheckStatement.text(names),
    values: [String(sessionKey)],
  });
  if (rows[0]!.pid !== pid || !rows[0]!.held) {
    throw new CoordinationError(
      'postgresql:// needs session-level advisory locks, but consecutive statements ran on different server ' +
        'sessions: this looks like a transaction-mode pooler (e.g. PgBouncer with pool_mode=transaction). ' +
        'Connect to PostgreSQL directly or through a session-mode pool.',
    );
  }
  return sessionKey;
}

/** PostgreSQL SQLSTATE classes and codes meaning the connection is gone or unusable. */
const CONNECTION_STATES = /^(08|28|57P0[1-4]|53300|3D000)/;

/** Thrown while the connection is down and being re-established. */
export class PostgresConnectionDown extends Error {
  override readonly name = 'PostgresConnectionDown';
}

/** Errors meaning PostgreSQL could not be reached, or the connection dropped. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof PostgresConnectionDown) return true;
  const code = (error as { code?: unknown }).code;
  if (hasSocketErrorCode(error) || (typeof code === 'string' && CONNECTION_STATES.test(code))) return true;
  return /Connection terminated|not queryable|timeout expired|no answer within|connect ECONNREFUSED|Client was closed/.test(
    error.message,
  );
}

/** The server cancelled a statement past `statement_timeout` (SQLSTATE 57014). */
export function isTimeoutError(error: unknown): boolean {
  return (
    error instanceof Error && ((error as { code?: unknown }).code === '57014' || error.message === 'Query read timeout')
  );
}
