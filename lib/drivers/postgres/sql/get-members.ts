import type { SqlStatement } from './statement.js';

/** The live members of several groups, read together (runWatchers reads every watched group in one). */
export const getMembersStatement: SqlStatement = {
  name: 'nc_get_members',
  text: (n) => `
WITH live AS MATERIALIZED (SELECT member_id FROM ${n.t('live_members')})
SELECT q.group_id, g.group_id IS NOT NULL AS found,
       ARRAY(SELECT m.member_id FROM ${n.t('members')} m
             WHERE m.group_id = q.group_id AND m.member_id IN (SELECT member_id FROM live)) AS members
FROM unnest($1::text[]) AS q(group_id)
LEFT JOIN ${n.t('groups')} g ON g.group_id = q.group_id`,
};
