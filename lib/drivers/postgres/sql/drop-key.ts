import type { SqlDefinition } from './statement.js';

/** Let go of advisory key `k` in a mode if this session holds it; true if it did. */
export const dropKeyFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('drop_key')}(p_session bigint, k bigint, is_shared boolean) RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM ${n.t('advisory')} WHERE session_key = p_session AND lock_key = k AND shared = is_shared;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM ${n.t('unlock_key')}(k, is_shared);
  RETURN true;
END $fn$;`,
};
