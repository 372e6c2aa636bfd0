import type { SqlStatement } from './statement.js';

export const getGroupsStatement: SqlStatement = {
  name: 'nc_get_groups',
  text: (n) => `SELECT group_id FROM ${n.t('groups')}`,
};
