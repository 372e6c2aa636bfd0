import { type DecodedStatement, onlyRow, type SqlDefinition } from './statement.js';

/**
 * Delete an empty group (members whose session is gone do not count) with
 * its leadership: ours is let go here; another leader hears 'd' on the
 * events channel (or finds its row gone at its next beat) and lets go.
 * 1, −1 no group, −3 not empty.
 */
export const deleteGroupFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('delete_group')}(p_session bigint, p_group text, p_leader_key bigint)
RETURNS integer
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM 1 FROM ${n.t('groups')} WHERE group_id = p_group FOR UPDATE;
  IF NOT FOUND THEN
    RETURN -1;
  END IF;
  IF EXISTS (SELECT 1 FROM ${n.t('members')} m
             WHERE m.group_id = p_group AND m.member_id IN (SELECT member_id FROM ${n.t('live_members')})) THEN
    RETURN -3;
  END IF;
  DELETE FROM ${n.t('groups')} WHERE group_id = p_group;
  PERFORM ${n.t('drop_key')}(p_session, p_leader_key, false);
  PERFORM pg_notify('${n.eventsChannel}', 'd' || md5(p_group));
  RETURN 1;
END $fn$;`,
};

export const deleteGroupStatement: DecodedStatement<'deleted' | 'no group' | 'not empty'> = {
  decode: (rows) => {
    const answer = onlyRow(rows).answer;
    return answer === -1 ? 'no group' : answer === -3 ? 'not empty' : 'deleted';
  },
  name: 'nc_delete_group',
  text: (n) => `SELECT ${n.t('delete_group')}($1, $2, $3) AS answer`,
};
