import type { SqlStatement } from './statement.js';

export const pingStatement: SqlStatement = { name: 'nc_ping', text: () => 'SELECT 1' };
