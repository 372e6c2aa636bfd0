import type { SqlDefinition } from './statement.js';

/**
 * A queued request tries again (woken, polled, or in a beat): it may go
 * when no live waiter ahead conflicts with it (an exclusive one waits to be
 * first; a shared one only behind shared ones). Answers the token (granted,
 * now or before), 0 (still waiting) or −1 (not queued: requeue it).
 */
export const tryGrantFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('try_grant')}(p_session bigint, p_holder text) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
  w record;
  v_fence bigint;
BEGIN
  SELECT fence INTO v_fence FROM ${n.t('holds')} WHERE session_key = p_session AND holder = p_holder;
  IF FOUND THEN
    RETURN v_fence;
  END IF;
  SELECT id, lock_key INTO w FROM ${n.t('waiters')} WHERE session_key = p_session AND holder = p_holder;
  IF NOT FOUND THEN
    RETURN -1;
  END IF;
  PERFORM ${n.t('mutex')}(ARRAY[w.lock_key]);
  SELECT id, lock_key, lock_name, shared INTO w FROM ${n.t('waiters')} WHERE id = w.id;
  IF NOT FOUND THEN
    RETURN -1;
  END IF;
  IF EXISTS (SELECT 1 FROM ${n.t('waiters')} a
             WHERE a.lock_key = w.lock_key AND a.id < w.id AND (NOT a.shared OR NOT w.shared)
               AND ${n.t('live')}(a.session_key)) THEN
    RETURN 0;
  END IF;
  IF NOT ${n.t('take')}(p_session, w.lock_key, w.shared) THEN
    RETURN 0;
  END IF;
  DELETE FROM ${n.t('waiters')} WHERE id = w.id;
  v_fence := nextval('${n.t('fence')}');
  INSERT INTO ${n.t('holds')} (session_key, holder, lock_key, lock_name, shared, fence)
  VALUES (p_session, p_holder, w.lock_key, w.lock_name, w.shared, v_fence);
  RETURN v_fence;
END $fn$;`,
};
