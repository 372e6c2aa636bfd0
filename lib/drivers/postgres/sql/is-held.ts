import { type DecodedStatement, onlyRow } from './statement.js';

/** Whether `holder` of this session holds its lock (a row is written only with the advisory lock held). */
export const isHeldStatement: DecodedStatement<boolean> = {
  name: 'nc_is_held',
  text: (n) =>
    `SELECT EXISTS (SELECT 1 FROM ${n.t('holds')} WHERE session_key = $1 AND holder = $2 AND shared = $3) AS held`,
  decode: (rows) => onlyRow(rows).held === true,
};
