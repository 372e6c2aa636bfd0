import type { SqlDefinition } from './statement.js';

/**
 * Take lock key `k` for one more handle of this session. The advisory lock
 * cannot tell our own handles apart, so they exclude each other here.
 */
export const takeFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('take')}(p_session bigint, k bigint, is_shared boolean) RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM ${n.t('holds')}
             WHERE session_key = p_session AND lock_key = k AND (NOT shared OR NOT is_shared)) THEN
    RETURN false;
  END IF;
  RETURN ${n.t('grab')}(p_session, k, is_shared);
END $fn$;`,
};
