import type { DecodedStatement, SqlDefinition } from './statement.js';

/** Lapsed: no longer queued (its connection dropped): to queue again. `blocker` as for acquire. */
export type TryGrantAnswer =
  { kind: 'granted'; fence: bigint } | { kind: 'waiting'; blocker: bigint | null } | { kind: 'lapsed' };

/**
 * Several queued requests of this session try at once (the wake-ups that
 * arrived together, the poll, a watched session's death): one round trip,
 * their queues serialised in one order first. A request still waiting
 * answers the session it waits for (`blocker`, see blocker.ts).
 */
export const tryGrantsFunction: SqlDefinition = {
  create: (n) => `
DROP FUNCTION IF EXISTS ${n.t('try_grants')}(bigint, text[], bigint[]);
CREATE FUNCTION ${n.t('try_grants')}(p_session bigint, p_holders text[], p_keys bigint[])
RETURNS TABLE (holder text, fence bigint, blocker bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  i int;
  w record;
BEGIN
  PERFORM ${n.t('mutex')}(p_keys);
  FOR i IN 1 .. coalesce(array_length(p_holders, 1), 0) LOOP
    holder := p_holders[i];
    fence := ${n.t('try_grant')}(p_session, p_holders[i]);
    blocker := NULL;
    IF fence = 0 THEN
      SELECT q.id, q.lock_key, q.shared INTO w FROM ${n.t('waiters')} q
      WHERE q.session_key = p_session AND q.holder = p_holders[i];
      blocker := ${n.t('blocker')}(p_session, w.lock_key, w.shared, w.id);
    END IF;
    RETURN NEXT;
  END LOOP;
END $fn$;`,
};

/** By holder (try_grant answers the token, 0 still waiting, −1 not queued). */
export const tryGrantsStatement: DecodedStatement<Map<string, TryGrantAnswer>> = {
  name: 'nc_try_grants',
  text: (n) => `SELECT holder, fence, blocker FROM ${n.t('try_grants')}($1, $2::text[], $3::bigint[])`,
  decode: (rows) =>
    new Map(
      rows.map((row) => {
        const fence = BigInt(row.fence as string);
        const blocker = row.blocker === null ? null : BigInt(row.blocker as string);
        const answer: TryGrantAnswer =
          fence > 0n ? { kind: 'granted', fence } : fence < 0n ? { kind: 'lapsed' } : { kind: 'waiting', blocker };
        return [row.holder as string, answer];
      }),
    ),
};
