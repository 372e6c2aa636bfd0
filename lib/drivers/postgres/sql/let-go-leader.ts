import type { SqlStatement } from './statement.js';

/**
 * Another session deleted a group we led (its row went with the group):
 * let go of the group's leadership key, unless we lead it again meanwhile.
 */
export const letGoLeaderStatement: SqlStatement = {
  name: 'nc_let_go_leader',
  text: (n) =>
    `SELECT CASE WHEN EXISTS (SELECT 1 FROM ${n.t('leaders')} WHERE group_id = $2 AND session_key = $1) ` +
    `THEN false ELSE ${n.t('drop_key')}($1, $3, false) END AS dropped`,
};
