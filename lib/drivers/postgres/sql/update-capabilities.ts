import type { SqlStatement } from './statement.js';

export const updateCapabilitiesStatement: SqlStatement = {
  name: 'nc_update_capabilities',
  text: (n) => `
WITH updated AS (
  UPDATE ${n.t('members')} SET capabilities = $3, updated_at = now()
  WHERE group_id = $1 AND member_id = $2 RETURNING 1)
SELECT EXISTS (SELECT 1 FROM ${n.t('groups')} WHERE group_id = $1) AS found,
       EXISTS (SELECT 1 FROM updated) AS updated`,
};
