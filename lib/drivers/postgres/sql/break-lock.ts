import { type DecodedStatement, onlyRow, type SqlDefinition } from './statement.js';

/** `own`: our holders it ended; `others`: the sessions (keys as text) that must let go of theirs. */
export interface BreakAnswer {
  wasHeld: boolean;
  own: string[];
  others: string[];
}

/**
 * Remove every hold on lock `k`. Our own are let go here; another session's
 * advisory lock can only be unlocked by that session, so it is told on its
 * channel ('b' + mode + key + holder) and `others` lists whom to wait for.
 */
export const breakLockFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('break_lock')}(
  p_session bigint, k bigint, OUT was_held boolean, OUT own text[], OUT others bigint[])
LANGUAGE plpgsql AS $fn$
DECLARE h record;
BEGIN
  was_held := false;
  own := '{}';
  others := '{}';
  PERFORM ${n.t('mutex')}(ARRAY[k]);
  FOR h IN DELETE FROM ${n.t('holds')} WHERE lock_key = k RETURNING session_key, holder, shared LOOP
    IF h.session_key = p_session THEN
      was_held := true;
      own := own || h.holder;
    ELSIF ${n.t('live')}(h.session_key) THEN
      was_held := true;
      PERFORM pg_notify('nc_session_' || h.session_key,
                        'b' || CASE WHEN h.shared THEN '1' ELSE '0' END || k || ' ' || h.holder);
      IF NOT h.session_key = ANY (others) THEN
        others := others || h.session_key;
      END IF;
    END IF;
  END LOOP;
  IF cardinality(own) > 0 THEN
    PERFORM ${n.t('settle')}(p_session, k, false);
    PERFORM ${n.t('settle')}(p_session, k, true);
  END IF;
END $fn$;`,
};

export const breakLockStatement: DecodedStatement<BreakAnswer> = {
  name: 'nc_break_lock',
  text: (n) => `SELECT was_held, own, others FROM ${n.t('break_lock')}($1, $2)`,
  decode: (rows) => {
    const row = onlyRow(rows);
    return { wasHeld: row.was_held === true, own: row.own as string[], others: row.others as string[] };
  },
};
