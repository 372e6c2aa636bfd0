import { type DecodedStatement, onlyRow, type SqlDefinition } from './statement.js';

/** Give up the leadership of a group: 1 if this session led it, 0 if not, −1 no group. */
export const standDownFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('stand_down')}(p_session bigint, p_group text, p_key bigint) RETURNS integer
LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ${n.t('groups')} WHERE group_id = p_group) THEN
    PERFORM ${n.t('drop_key')}(p_session, p_key, false);
    RETURN -1;
  END IF;
  DELETE FROM ${n.t('leaders')} WHERE group_id = p_group AND session_key = p_session;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  PERFORM ${n.t('drop_key')}(p_session, p_key, false);
  PERFORM pg_notify('${n.eventsChannel}', 'l' || md5(p_group));
  RETURN 1;
END $fn$;`,
};

export const standDownStatement: DecodedStatement<'stood down' | 'not ours' | 'no group'> = {
  decode: (rows) => {
    const answer = onlyRow(rows).answer;
    return answer === -1 ? 'no group' : answer === 1 ? 'stood down' : 'not ours';
  },
  name: 'nc_stand_down',
  text: (n) => `SELECT ${n.t('stand_down')}($1, $2, $3) AS answer`,
};
