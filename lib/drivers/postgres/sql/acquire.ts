import { type DecodedStatement, onlyRow, type SqlDefinition } from './statement.js';

/** Queued: `blocker` is the session the request waits for, when known (to watch for its death). */
export type AcquireAnswer =
  { kind: 'granted'; fence: bigint } | { kind: 'queued'; blocker: bigint | null } | { kind: 'refused' };

/**
 * Take lock `k` for `p_holder` at once, or (with `p_wait`) join its queue.
 * A newcomer takes the lock only when no live waiter is queued: waiters are
 * served in arrival order. The fencing token comes from the one sequence,
 * in the same statement. Answers the token, 0 (queued; `blocker` is the
 * session to watch, if known) or −1 (refused).
 */
export const acquireFunction: SqlDefinition = {
  create: (n) => `
DROP FUNCTION IF EXISTS ${n.t('acquire')}(bigint, text, bigint, text, boolean, boolean);
CREATE FUNCTION ${n.t('acquire')}(
  p_session bigint, p_holder text, k bigint, p_name text, is_shared boolean, p_wait boolean,
  OUT fence bigint, OUT blocker bigint)
LANGUAGE plpgsql AS $fn$
DECLARE v_id bigint;
BEGIN
  PERFORM ${n.t('mutex')}(ARRAY[k]);
  IF EXISTS (SELECT 1 FROM ${n.t('waiters')} WHERE lock_key = k) THEN
    -- Waiters of sessions that died are skipped for good; the new head may go now.
    DELETE FROM ${n.t('waiters')} WHERE lock_key = k AND NOT ${n.t('live')}(session_key);
    IF FOUND THEN
      PERFORM ${n.t('wake')}(k);
    END IF;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM ${n.t('waiters')} WHERE lock_key = k) AND ${n.t('take')}(p_session, k, is_shared) THEN
    fence := nextval('${n.t('fence')}');
    INSERT INTO ${n.t('holds')} (session_key, holder, lock_key, lock_name, shared, fence)
    VALUES (p_session, p_holder, k, p_name, is_shared, fence);
    RETURN;
  END IF;
  IF NOT p_wait THEN
    fence := -1;
    RETURN;
  END IF;
  INSERT INTO ${n.t('waiters')} (session_key, holder, lock_key, lock_name, shared)
  VALUES (p_session, p_holder, k, p_name, is_shared)
  ON CONFLICT (session_key, holder) DO NOTHING;
  SELECT id INTO v_id FROM ${n.t('waiters')} WHERE session_key = p_session AND holder = p_holder;
  fence := 0;
  blocker := ${n.t('blocker')}(p_session, k, is_shared, v_id);
END $fn$;`,
};

export const acquireStatement: DecodedStatement<AcquireAnswer> = {
  name: 'nc_acquire',
  text: (n) => `SELECT fence, blocker FROM ${n.t('acquire')}($1, $2, $3, $4, $5, $6)`,
  decode: (rows) => {
    const row = onlyRow(rows);
    const fence = BigInt(row.fence as string);
    if (fence > 0n) return { kind: 'granted', fence };
    if (fence < 0n) return { kind: 'refused' };
    return { kind: 'queued', blocker: row.blocker === null ? null : BigInt(row.blocker as string) };
  },
};
