import type { SqlStatement } from './statement.js';

/** The leader's member id while its session lives (its leadership lock went with a dead one). */
export const getLeaderStatement: SqlStatement = {
  name: 'nc_get_leader',
  text: (n) => `
SELECT EXISTS (SELECT 1 FROM ${n.t('groups')} WHERE group_id = $1) AS found,
       (SELECT l.member_id FROM ${n.t('leaders')} l
        WHERE l.group_id = $1 AND l.session_key IN (SELECT session_key FROM ${n.t('live_sessions')})) AS leader`,
};
