import type { SqlDefinition, SqlStatement } from './statement.js';

/**
 * Win, or keep, the leadership of each group: ours while our row is there;
 * else whoever takes the group's leadership key writes the row (the old
 * leader's session is gone, or it stood down). Answers the groups led after.
 */
export const electFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('elect')}(p_session bigint, p_member text, p_groups text[], p_keys bigint[])
RETURNS text[]
LANGUAGE plpgsql AS $fn$
DECLARE
  i int;
  led text[] := '{}';
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_groups, 1), 0) LOOP
    IF NOT EXISTS (SELECT 1 FROM ${n.t('groups')} WHERE group_id = p_groups[i]) THEN
      PERFORM ${n.t('drop_key')}(p_session, p_keys[i], false);
    ELSIF EXISTS (SELECT 1 FROM ${n.t('leaders')} WHERE group_id = p_groups[i] AND session_key = p_session) THEN
      led := led || p_groups[i];
    ELSIF ${n.t('grab')}(p_session, p_keys[i], false) THEN
      BEGIN
        INSERT INTO ${n.t('leaders')} (group_id, member_id, session_key, leader_key)
        VALUES (p_groups[i], p_member, p_session, p_keys[i])
        ON CONFLICT (group_id) DO UPDATE
          SET member_id = EXCLUDED.member_id, session_key = EXCLUDED.session_key,
              leader_key = EXCLUDED.leader_key, elected_at = now();
        PERFORM pg_notify('${n.eventsChannel}', 'l' || md5(p_groups[i]));
        led := led || p_groups[i];
      EXCEPTION WHEN foreign_key_violation THEN
        -- Deleted meanwhile: not led.
        PERFORM ${n.t('drop_key')}(p_session, p_keys[i], false);
      END;
    END IF;
  END LOOP;
  RETURN led;
END $fn$;`,
};

export const electStatement: SqlStatement = {
  name: 'nc_elect',
  text: (n) => `SELECT ${n.t('elect')}($1, $2, $3::text[], $4::bigint[]) AS led`,
};
