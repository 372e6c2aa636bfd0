import type { SqlStatement } from './statement.js';

/**
 * Sent as its own statement right after open_session: through a
 * transaction-mode pooler it lands on another backend, which neither has
 * that pid nor holds the session's key.
 */
export const sessionCheckStatement: SqlStatement = {
  name: 'nc_session_check',
  text: (n) =>
    `SELECT pg_backend_pid() AS pid, EXISTS (SELECT 1 FROM ${n.t('live_sessions')} ` +
    `WHERE session_key = $1 AND pid = pg_backend_pid()) AS held`,
};
