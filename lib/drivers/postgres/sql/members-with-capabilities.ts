import type { SqlStatement } from './statement.js';

/** A group's live members with their capabilities, one query (one row with nulls for an empty group). */
export const membersWithCapabilitiesStatement: SqlStatement = {
  name: 'nc_members_with_capabilities',
  text: (n) => `
WITH live AS MATERIALIZED (SELECT member_id FROM ${n.t('live_members')})
SELECT g.group_id IS NOT NULL AS found, m.member_id, m.capabilities
FROM (SELECT $1::text AS group_id) q
LEFT JOIN ${n.t('groups')} g ON g.group_id = q.group_id
LEFT JOIN ${n.t('members')} m ON m.group_id = g.group_id AND m.member_id IN (SELECT member_id FROM live)`,
};
