import type { Client } from 'pg';
import { CoordinationError, CoordinatorConnectionError } from '../../core/errors.js';
import type { PostgresSettings } from './postgres-options.js';
import type { SchemaNames } from './schema-names.js';
import { MUTEX_CLASS, schemaScript } from './sql/index.js';

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
  } catch (error) {
    void client.end().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return client;
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

/** PostgreSQL SQLSTATE classes and codes meaning the connection is gone or unusable. */
const CONNECTION_STATES = /^(08|28|57P0[1-4]|53300|3D000)/;
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

/** Thrown while the connection is down and being re-established. */
export class PostgresConnectionDown extends Error {
  override readonly name = 'PostgresConnectionDown';
}

/** Errors meaning PostgreSQL could not be reached, or the connection dropped. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof PostgresConnectionDown) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || CONNECTION_STATES.test(code))) return true;
  return /Connection terminated|not queryable|timeout expired|no answer within|connect ECONNREFUSED|Client was closed/.test(
    error.message,
  );
}

/** The server cancelled a statement past `statement_timeout` (SQLSTATE 57014). */
export function isTimeoutError(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === '57014';
}
