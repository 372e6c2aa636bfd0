import type { SqlDefinition } from './statement.js';

/**
 * Wake the waiters that may take lock `k` now: the first live one, and
 * after a shared one every shared waiter up to the first exclusive one. Each
 * is told on its session's channel; it then tries (try_grant) itself.
 */
export const wakeFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('wake')}(k bigint) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  w record;
  first boolean := true;
BEGIN
  FOR w IN SELECT q.session_key, q.holder, q.shared FROM ${n.t('waiters')} q
           WHERE q.lock_key = k AND ${n.t('live')}(q.session_key)
           ORDER BY q.id LOOP
    EXIT WHEN NOT first AND NOT w.shared;
    PERFORM pg_notify('nc_session_' || w.session_key, 'w' || w.holder);
    EXIT WHEN NOT w.shared;
    first := false;
  END LOOP;
END $fn$;`,
};
