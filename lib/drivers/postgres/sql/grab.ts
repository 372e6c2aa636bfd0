import type { SqlDefinition } from './statement.js';

/**
 * Hold advisory key `k` in a mode for this session: reserved for this
 * transaction and noted in `advisory` (once: advisory locks are re-entrant
 * per session and one unlock must free it); the session lock itself is
 * taken at commit (advisory-apply.ts).
 */
export const grabFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('grab')}(p_session bigint, k bigint, is_shared boolean) RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM ${n.t('advisory')} WHERE session_key = p_session AND lock_key = k AND shared = is_shared) THEN
    RETURN true;
  END IF;
  IF NOT ${n.t('try_key')}(k, is_shared) THEN
    RETURN false;
  END IF;
  INSERT INTO ${n.t('advisory')} (session_key, lock_key, shared) VALUES (p_session, k, is_shared);
  RETURN true;
END $fn$;`,
};
