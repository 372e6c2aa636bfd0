import type { SqlDefinition } from './statement.js';

/**
 * Let go of advisory key `k` in a mode if this session holds it; true if it
 * did. The row goes now, the session lock at commit (advisory-apply.ts).
 */
export const dropKeyFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('drop_key')}(p_session bigint, k bigint, is_shared boolean) RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM ${n.t('advisory')} WHERE session_key = p_session AND lock_key = k AND shared = is_shared;
  RETURN FOUND;
END $fn$;`,
};
