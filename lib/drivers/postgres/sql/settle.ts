import type { SqlDefinition, SqlStatement } from './statement.js';

/**
 * After a hold of ours on `k` ended (released, broken, found lost): let go
 * of the advisory lock in that mode when no other handle of ours needs it,
 * and wake whoever may take it now.
 */
export const settleFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('settle')}(p_session bigint, k bigint, is_shared boolean) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM ${n.t('mutex')}(ARRAY[k]);
  IF NOT EXISTS (SELECT 1 FROM ${n.t('holds')} WHERE session_key = p_session AND lock_key = k AND shared = is_shared)
     AND ${n.t('drop_key')}(p_session, k, is_shared) THEN
    PERFORM ${n.t('wake')}(k);
  END IF;
END $fn$;`,
};

/** The statement form, for a hold broken by another session (its notification names key and mode). */
export const settleStatement: SqlStatement = {
  name: 'nc_settle',
  text: (n) => `SELECT ${n.t('settle')}($1, $2, $3)`,
};
