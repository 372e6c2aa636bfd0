import { type DecodedStatement, onlyRow, type SqlDefinition } from './statement.js';

/** Join with capabilities (times from the server's clock) and tell watchers: 1, −1 no group, −3 already in. */
export const joinGroupFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('join_group')}(p_group text, p_member text, p_session bigint, p_caps bytea)
RETURNS integer
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM 1 FROM ${n.t('groups')} WHERE group_id = p_group FOR KEY SHARE;
  IF NOT FOUND THEN
    RETURN -1;
  END IF;
  INSERT INTO ${n.t('members')} (group_id, member_id, session_key, capabilities)
  VALUES (p_group, p_member, p_session, p_caps)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RETURN -3;
  END IF;
  PERFORM pg_notify('${n.eventsChannel}', 'm' || md5(p_group));
  RETURN 1;
END $fn$;`,
};

export const joinGroupStatement: DecodedStatement<'joined' | 'no group' | 'already a member'> = {
  decode: (rows) => {
    const answer = onlyRow(rows).answer;
    return answer === -1 ? 'no group' : answer === -3 ? 'already a member' : 'joined';
  },
  name: 'nc_join_group',
  text: (n) => `SELECT ${n.t('join_group')}($1, $2, $3, $4) AS answer`,
};
