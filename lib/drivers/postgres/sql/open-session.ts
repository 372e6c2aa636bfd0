import { DIRECT_SETTING, SESSION_SETTING } from './advisory-apply.js';
import type { SqlDefinition, SqlStatement } from './statement.js';

/**
 * Make this connection the session `p_session`: take its advisory key
 * (held until the connection ends: that is the session's liveness) and
 * write its row. Answers the backend pid, or null when the key is held
 * elsewhere (an old connection not yet gone: pick another key). Garbage is
 * collected by a statement of its own: before this one on a first
 * connection, so rows left by a dead process of the same member id go; after
 * it on a reconnect, so its own stay.
 */
export const openSessionFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('open_session')}(
  p_session bigint, p_member text, p_timeout_ms integer, p_reopen boolean) RETURNS integer
LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT pg_try_advisory_lock(p_session) THEN
    RETURN NULL;
  END IF;
  -- This connection is the session from now on; the rows below are an earlier connection's, whose locks went with it.
  PERFORM set_config('${SESSION_SETTING}', p_session::text, false);
  PERFORM set_config('${DIRECT_SETTING}', 'on', true);
  -- What an earlier connection of this session held went with it.
  DELETE FROM ${n.t('holds')} WHERE session_key = p_session;
  DELETE FROM ${n.t('waiters')} WHERE session_key = p_session;
  DELETE FROM ${n.t('leaders')} WHERE session_key = p_session;
  DELETE FROM ${n.t('advisory')} WHERE session_key = p_session;
  INSERT INTO ${n.t('sessions')} (session_key, member_id, pid, expires_at)
  VALUES (p_session, p_member, pg_backend_pid(), now() + p_timeout_ms * interval '1 millisecond')
  ON CONFLICT (session_key) DO UPDATE
    SET pid = EXCLUDED.pid, beat_at = now(), expires_at = EXCLUDED.expires_at;
  RETURN pg_backend_pid();
END $fn$;`,
};

export const openSessionStatement: SqlStatement = {
  name: 'nc_open_session',
  text: (n) => `SELECT ${n.t('open_session')}($1, $2, $3, $4) AS pid`,
};
