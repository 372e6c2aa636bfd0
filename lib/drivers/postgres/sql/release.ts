import { type DecodedStatement, onlyRow, type SqlDefinition } from './statement.js';

/**
 * End `p_holder`'s hold and wake the queue's head in the same round trip;
 * false if it held nothing (a queued request of that holder leaves the queue).
 */
export const releaseFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('release')}(p_session bigint, p_holder text) RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE h record;
BEGIN
  SELECT lock_key INTO h FROM ${n.t('holds')} WHERE session_key = p_session AND holder = p_holder;
  IF NOT FOUND THEN
    -- Let go of while still queued (a withdrawal that failed): leave the queue, or it blocks everyone.
    SELECT lock_key INTO h FROM ${n.t('waiters')} WHERE session_key = p_session AND holder = p_holder;
    IF FOUND THEN
      PERFORM ${n.t('mutex')}(ARRAY[h.lock_key]);
      DELETE FROM ${n.t('waiters')} WHERE session_key = p_session AND holder = p_holder;
      PERFORM ${n.t('wake')}(h.lock_key);
    END IF;
    RETURN false;
  END IF;
  PERFORM ${n.t('mutex')}(ARRAY[h.lock_key]);
  DELETE FROM ${n.t('holds')} WHERE session_key = p_session AND holder = p_holder
  RETURNING lock_key, shared INTO h;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM ${n.t('settle')}(p_session, h.lock_key, h.shared);
  RETURN true;
END $fn$;`,
};

export const releaseStatement: DecodedStatement<boolean> = {
  name: 'nc_release',
  text: (n) => `SELECT ${n.t('release')}($1, $2) AS released`,
  decode: (rows) => onlyRow(rows).released === true,
};
