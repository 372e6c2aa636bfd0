import type { SqlDefinition, SqlStatement } from './statement.js';

/**
 * Several queued requests of this session try at once (the wake-ups that
 * arrived together, or the poll): one round trip, their queues serialised
 * in one order first.
 */
export const tryGrantsFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('try_grants')}(p_session bigint, p_holders text[], p_keys bigint[])
RETURNS TABLE (holder text, fence bigint)
LANGUAGE plpgsql AS $fn$
DECLARE i int;
BEGIN
  PERFORM ${n.t('mutex')}(p_keys);
  FOR i IN 1 .. coalesce(array_length(p_holders, 1), 0) LOOP
    holder := p_holders[i];
    fence := ${n.t('try_grant')}(p_session, p_holders[i]);
    RETURN NEXT;
  END LOOP;
END $fn$;`,
};

export const tryGrantsStatement: SqlStatement = {
  name: 'nc_try_grants',
  text: (n) => `SELECT holder, fence FROM ${n.t('try_grants')}($1, $2::text[], $3::bigint[])`,
};
