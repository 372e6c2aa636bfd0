import { type DecodedStatement, onlyRow, type SqlDefinition } from './statement.js';

/**
 * Leave the queue (a timeout, an abort, stop()). Those behind may go now,
 * so the queue's head is woken. Answers the token of a grant that came
 * first (the core releases it), else 0.
 */
export const withdrawFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('withdraw')}(p_session bigint, p_holder text) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
  w record;
  v_fence bigint;
BEGIN
  SELECT fence INTO v_fence FROM ${n.t('holds')} WHERE session_key = p_session AND holder = p_holder;
  IF FOUND THEN
    RETURN v_fence;
  END IF;
  SELECT lock_key INTO w FROM ${n.t('waiters')} WHERE session_key = p_session AND holder = p_holder;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  PERFORM ${n.t('mutex')}(ARRAY[w.lock_key]);
  DELETE FROM ${n.t('waiters')} WHERE session_key = p_session AND holder = p_holder;
  PERFORM ${n.t('wake')}(w.lock_key);
  RETURN 0;
END $fn$;`,
};

/** The token of a grant that raced the withdrawal, or null. */
export const withdrawStatement: DecodedStatement<bigint | null> = {
  name: 'nc_withdraw',
  text: (n) => `SELECT ${n.t('withdraw')}($1, $2) AS fence`,
  decode: (rows) => {
    const fence = BigInt(onlyRow(rows).fence as string);
    return fence > 0n ? fence : null;
  },
};
