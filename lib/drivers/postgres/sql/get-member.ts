import type { SqlStatement } from './statement.js';

/** One live member's capabilities and times (join, last capabilities write). */
export const getMemberStatement: SqlStatement = {
  name: 'nc_get_member',
  text: (n) => `
SELECT g.group_id IS NOT NULL AS found, m.capabilities, m.created_at, m.updated_at
FROM (SELECT $1::text AS group_id) q
LEFT JOIN ${n.t('groups')} g ON g.group_id = q.group_id
LEFT JOIN ${n.t('members')} m ON m.group_id = g.group_id AND m.member_id = $2
  AND m.member_id IN (SELECT member_id FROM ${n.t('live_members')})`,
};
