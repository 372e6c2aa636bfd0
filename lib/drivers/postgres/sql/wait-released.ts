import type { SqlDefinition, SqlStatement } from './statement.js';

/**
 * After a break: wait (bounded) until the broken sessions let go of lock
 * `k`, so the breaker's next acquire finds it free. Polls in the server,
 * 1 ms apart, only for a break; true once they did, false at the deadline.
 */
export const waitReleasedFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('wait_released')}(k bigint, p_sessions bigint[], p_timeout_ms integer)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE v_deadline timestamptz := clock_timestamp() + p_timeout_ms * interval '1 millisecond';
BEGIN
  LOOP
    IF NOT EXISTS (SELECT 1 FROM ${n.t('advisory')} a
                   WHERE a.lock_key = k AND a.session_key = ANY (p_sessions)
                     AND ${n.t('live')}(a.session_key)) THEN
      RETURN true;
    END IF;
    IF clock_timestamp() >= v_deadline THEN
      RETURN false;
    END IF;
    PERFORM pg_sleep(0.001);
  END LOOP;
END $fn$;`,
};

export const waitReleasedStatement: SqlStatement = {
  name: 'nc_wait_released',
  text: (n) => `SELECT ${n.t('wait_released')}($1, $2::bigint[], $3) AS released`,
};
