import type { SqlStatement } from './statement.js';

/** One row inserted, or none when the group exists. */
export const createGroupStatement: SqlStatement = {
  name: 'nc_create_group',
  text: (n) => `INSERT INTO ${n.t('groups')} (group_id) VALUES ($1) ON CONFLICT DO NOTHING`,
};
