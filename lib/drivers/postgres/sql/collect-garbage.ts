import { MUTEX_CLASS, type SqlDefinition, type SqlStatement } from './statement.js';

/**
 * Delete what sessions that died left behind: their session rows, the
 * memberships of member ids with no session left (watchers are told), their
 * holds, queue places (the new heads are woken) and leaderships. Reads never
 * count these rows anyway; this only keeps the tables small. One collector
 * at a time per schema, and rows someone else has locked are skipped.
 */
export const collectGarbageFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('collect_garbage')}() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  g text;
  k bigint;
BEGIN
  IF NOT pg_try_advisory_xact_lock(${MUTEX_CLASS}, hashtext('gc ${n.schema}.${n.prefix}')) THEN
    RETURN;
  END IF;
  DELETE FROM ${n.t('sessions')} WHERE session_key IN (
    SELECT session_key FROM ${n.t('sessions')}
    WHERE session_key NOT IN (SELECT session_key FROM ${n.t('live_sessions')}) FOR UPDATE SKIP LOCKED);
  FOR g IN DELETE FROM ${n.t('members')} WHERE (group_id, member_id) IN (
             SELECT group_id, member_id FROM ${n.t('members')}
             WHERE member_id NOT IN (SELECT member_id FROM ${n.t('sessions')}) FOR UPDATE SKIP LOCKED)
           RETURNING group_id LOOP
    PERFORM pg_notify('${n.eventsChannel}', 'm' || md5(g));
  END LOOP;
  DELETE FROM ${n.t('holds')} WHERE (session_key, holder) IN (
    SELECT session_key, holder FROM ${n.t('holds')}
    WHERE session_key NOT IN (SELECT session_key FROM ${n.t('sessions')}) FOR UPDATE SKIP LOCKED);
  DELETE FROM ${n.t('advisory')} WHERE (session_key, lock_key, shared) IN (
    SELECT session_key, lock_key, shared FROM ${n.t('advisory')}
    WHERE session_key NOT IN (SELECT session_key FROM ${n.t('sessions')}) FOR UPDATE SKIP LOCKED);
  DELETE FROM ${n.t('leaders')} WHERE group_id IN (
    SELECT group_id FROM ${n.t('leaders')}
    WHERE session_key NOT IN (SELECT session_key FROM ${n.t('sessions')}) FOR UPDATE SKIP LOCKED);
  FOR k IN WITH gone AS (
             DELETE FROM ${n.t('waiters')} WHERE id IN (
               SELECT id FROM ${n.t('waiters')}
               WHERE session_key NOT IN (SELECT session_key FROM ${n.t('sessions')}) FOR UPDATE SKIP LOCKED)
             RETURNING lock_key)
           SELECT DISTINCT lock_key FROM gone LOOP
    PERFORM ${n.t('wake')}(k);
  END LOOP;
END $fn$;`,
};

/**
 * Its own statement, never part of a beat: it reads `pg_locks` (whose cost
 * grows with every lock on the server) and may time out alone.
 */
export const collectGarbageStatement: SqlStatement = {
  name: 'nc_collect_garbage',
  text: (n) => `SELECT ${n.t('collect_garbage')}()`,
};
