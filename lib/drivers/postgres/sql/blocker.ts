import type { SqlDefinition } from './statement.js';

/**
 * The session a queued request at the head of lock `k`'s queue waits for: a
 * live holder in a conflicting mode, not ours. The waiter's coordinator
 * watches it to learn at once when it dies (postgres-death-watch.ts). Null
 * when a live conflicting waiter is ahead (it goes first) or no holder is on
 * record (a Python tooz holder).
 */
export const blockerFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('blocker')}(p_session bigint, k bigint, is_shared boolean, p_id bigint)
RETURNS bigint
LANGUAGE sql VOLATILE AS $fn$
  SELECT CASE
    WHEN EXISTS (SELECT 1 FROM ${n.t('waiters')} a
                 WHERE a.lock_key = k AND a.id < p_id AND (NOT a.shared OR NOT is_shared) AND ${n.t('live')}(a.session_key))
    THEN NULL
    ELSE (SELECT h.session_key FROM ${n.t('holds')} h
          WHERE h.lock_key = k AND h.session_key <> p_session AND (NOT h.shared OR NOT is_shared)
            AND ${n.t('live')}(h.session_key) LIMIT 1)
  END
$fn$;`,
};
