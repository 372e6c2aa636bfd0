import { MUTEX_CLASS, type SqlDefinition } from './statement.js';

/**
 * Serialise the queues of `keys` until commit, so a release never misses a
 * waiter that queued meanwhile (each statement of a volatile function sees
 * what committed before it). Taken in hash order: batches never deadlock.
 */
export const mutexFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('mutex')}(keys bigint[]) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE h int4;
BEGIN
  FOR h IN SELECT DISTINCT hashtext(k::text) FROM unnest(keys) k ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(${MUTEX_CLASS}, h);
  END LOOP;
END $fn$;`,
};
