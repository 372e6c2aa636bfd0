import { type DecodedStatement, onlyRow, type SqlDefinition } from './statement.js';

/** Leave and tell watchers: 1, −1 no group, −2 not in it. */
export const leaveGroupFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('leave_group')}(p_group text, p_member text) RETURNS integer
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM 1 FROM ${n.t('groups')} WHERE group_id = p_group;
  IF NOT FOUND THEN
    RETURN -1;
  END IF;
  DELETE FROM ${n.t('members')} WHERE group_id = p_group AND member_id = p_member;
  IF NOT FOUND THEN
    RETURN -2;
  END IF;
  PERFORM pg_notify('${n.eventsChannel}', 'm' || md5(p_group));
  RETURN 1;
END $fn$;`,
};

export const leaveGroupStatement: DecodedStatement<'left' | 'no group' | 'not a member'> = {
  decode: (rows) => {
    const answer = onlyRow(rows).answer;
    return answer === -1 ? 'no group' : answer === -2 ? 'not a member' : 'left';
  },
  name: 'nc_leave_group',
  text: (n) => `SELECT ${n.t('leave_group')}($1, $2) AS answer`,
};
