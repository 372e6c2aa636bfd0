import { DIRECT_SETTING } from './advisory-apply.js';
import type { SqlDefinition, SqlStatement } from './statement.js';

/**
 * stop(): let go of every advisory lock of this connection at once (the
 * session key, leaderships, holds) and wake the head of every queue it held
 * or waited in; then leave `p_groups` and drop the session's rows. Called
 * twice, the first time with null groups: that half commits (and wakes the
 * waiters) before the rest is planned — a fresh backend plans each
 * statement on first use, which costs a few ms.
 */
export const closeSessionFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('close_session')}(p_session bigint, p_member text, p_groups text[]) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  g text;
  k bigint;
BEGIN
  PERFORM ${n.t('mutex')}(ARRAY(
    SELECT lock_key FROM ${n.t('holds')} WHERE session_key = p_session
    UNION SELECT lock_key FROM ${n.t('waiters')} WHERE session_key = p_session));
  -- Every session lock goes here and now; the advisory rows deleted below need no unlock at commit.
  PERFORM set_config('${DIRECT_SETTING}', 'on', true);
  PERFORM pg_advisory_unlock_all();
  FOR k IN WITH held AS (DELETE FROM ${n.t('holds')} WHERE session_key = p_session RETURNING lock_key),
                queued AS (DELETE FROM ${n.t('waiters')} WHERE session_key = p_session RETURNING lock_key)
           SELECT lock_key FROM held UNION SELECT lock_key FROM queued LOOP
    PERFORM ${n.t('wake')}(k);
  END LOOP;
  IF p_groups IS NULL THEN
    RETURN; -- the first half: the waiters are woken as soon as it commits
  END IF;
  FOR g IN DELETE FROM ${n.t('leaders')} WHERE session_key = p_session RETURNING group_id LOOP
    PERFORM pg_notify('${n.eventsChannel}', 'l' || md5(g));
  END LOOP;
  FOR g IN DELETE FROM ${n.t('members')} WHERE member_id = p_member AND group_id = ANY (p_groups)
           RETURNING group_id LOOP
    PERFORM pg_notify('${n.eventsChannel}', 'm' || md5(g));
  END LOOP;
  DELETE FROM ${n.t('advisory')} WHERE session_key = p_session;
  DELETE FROM ${n.t('sessions')} WHERE session_key = p_session;
END $fn$;`,
};

export const closeSessionStatement: SqlStatement = {
  name: 'nc_close_session',
  text: (n) => `SELECT ${n.t('close_session')}($1, $2, $3::text[])`,
};
