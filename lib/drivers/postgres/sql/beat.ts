import { type DecodedStatement, onlyRow, type SqlDefinition } from './statement.js';

/** `granted`: queued holders granted meanwhile, with their tokens; `requeue`: holders no longer queued. */
export interface BeatAnswer {
  lapsed: boolean;
  missingGroups: string[];
  lostHolds: string[];
  lostLeaderships: string[];
  granted: Map<string, bigint>;
  requeue: Set<string>;
}

/**
 * The session beat, one round trip however much is held: let go of what
 * the core abandoned, refresh this session's liveness (reporting whether it
 * had lapsed), and report the groups this member is no longer in, the holds
 * and leaderships that are gone (letting go of their advisory locks) and the
 * queued requests granted meanwhile (or to be queued again: −1). Garbage
 * collection is a statement of its own (collect-garbage.ts): liveness never
 * waits for it, nor fails with it.
 */
export const beatFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('beat')}(
  p_session bigint, p_member text, p_timeout_ms integer, p_liveness boolean,
  p_groups text[],
  p_holders text[], p_hold_keys bigint[], p_hold_shared boolean[],
  p_leaderships text[], p_leader_keys bigint[],
  p_waiters text[],
  p_abandoned_holders text[], p_abandoned_leaderships text[], p_abandoned_leader_keys bigint[],
  p_lock_keys bigint[],
  OUT lapsed boolean, OUT missing_groups text[], OUT lost_holds text[], OUT lost_leaderships text[],
  OUT granted text[], OUT fences bigint[], OUT requeue text[])
LANGUAGE plpgsql AS $fn$
DECLARE
  i int;
  v_expires timestamptz;
  v_fence bigint;
BEGIN
  lapsed := false;
  lost_holds := '{}';
  lost_leaderships := '{}';
  granted := '{}';
  fences := '{}';
  requeue := '{}';
  PERFORM ${n.t('mutex')}(p_lock_keys);
  FOR i IN 1 .. coalesce(array_length(p_abandoned_holders, 1), 0) LOOP
    PERFORM ${n.t('release')}(p_session, p_abandoned_holders[i]);
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(p_abandoned_leaderships, 1), 0) LOOP
    PERFORM ${n.t('stand_down')}(p_session, p_abandoned_leaderships[i], p_abandoned_leader_keys[i]);
  END LOOP;
  IF p_liveness THEN
    SELECT expires_at INTO v_expires FROM ${n.t('sessions')} WHERE session_key = p_session FOR UPDATE;
    lapsed := v_expires IS NULL OR v_expires <= now();
    INSERT INTO ${n.t('sessions')} (session_key, member_id, pid, expires_at)
    VALUES (p_session, p_member, pg_backend_pid(), now() + p_timeout_ms * interval '1 millisecond')
    ON CONFLICT (session_key) DO UPDATE SET beat_at = now(), expires_at = EXCLUDED.expires_at;
  END IF;
  SELECT coalesce(array_agg(g), '{}') INTO missing_groups FROM unnest(p_groups) g
  WHERE NOT EXISTS (SELECT 1 FROM ${n.t('members')} m WHERE m.group_id = g AND m.member_id = p_member);
  FOR i IN 1 .. coalesce(array_length(p_holders, 1), 0) LOOP
    IF NOT EXISTS (SELECT 1 FROM ${n.t('holds')} WHERE session_key = p_session AND holder = p_holders[i]) THEN
      lost_holds := lost_holds || p_holders[i];
      PERFORM ${n.t('settle')}(p_session, p_hold_keys[i], p_hold_shared[i]);
    END IF;
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(p_leaderships, 1), 0) LOOP
    IF NOT EXISTS (SELECT 1 FROM ${n.t('leaders')} WHERE group_id = p_leaderships[i] AND session_key = p_session) THEN
      lost_leaderships := lost_leaderships || p_leaderships[i];
      PERFORM ${n.t('drop_key')}(p_session, p_leader_keys[i], false);
    END IF;
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(p_waiters, 1), 0) LOOP
    v_fence := ${n.t('try_grant')}(p_session, p_waiters[i]);
    IF v_fence > 0 THEN
      granted := granted || p_waiters[i];
      fences := fences || v_fence;
    ELSIF v_fence < 0 THEN
      requeue := requeue || p_waiters[i];
    END IF;
  END LOOP;
END $fn$;`,
};

export const beatStatement: DecodedStatement<BeatAnswer> = {
  decode: (rows) => {
    const row = onlyRow(rows);
    const fences = row.fences as string[];
    return {
      lapsed: row.lapsed === true,
      missingGroups: row.missing_groups as string[],
      lostHolds: row.lost_holds as string[],
      lostLeaderships: row.lost_leaderships as string[],
      granted: new Map((row.granted as string[]).map((holder, i) => [holder, BigInt(fences[i]!)])),
      requeue: new Set(row.requeue as string[]),
    };
  },
  name: 'nc_beat',
  text: (n) =>
    `SELECT lapsed, missing_groups, lost_holds, lost_leaderships, granted, fences, requeue FROM ${n.t('beat')}(` +
    `$1, $2, $3, $4, $5::text[], $6::text[], $7::bigint[], $8::boolean[], $9::text[], $10::bigint[], ` +
    `$11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[])`,
};
