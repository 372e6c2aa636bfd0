import { DIRECT_SETTING } from './advisory-apply.js';
import type { SqlDefinition, SqlStatement } from './statement.js';

/**
 * After a statement that took or let go of advisory keys `p_keys` failed,
 * or its outcome is unknown: first drop the rows of the holds and
 * leaderships whose belief the driver already ended (`p_holders`,
 * `p_groups`), then make this session's advisory locks on those keys match
 * its rows — one level per mode wanted, none otherwise. A key another
 * session holds meanwhile cannot be ours: its rows go and are reported
 * lost. The session locks are set last, each key reserved by a transaction
 * lock until then, so nobody can slip in between the unlock and the relock.
 */
export const repairFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('repair')}(
  p_session bigint, p_keys bigint[], p_holders text[], p_groups text[],
  OUT lost_holds text[], OUT lost_leaderships text[])
LANGUAGE plpgsql AS $fn$
DECLARE
  k bigint;
  m boolean;
  g text;
  i int;
  wanted boolean;
  v_keys bigint[] := '{}';
  v_modes boolean[] := '{}';
  v_wanted boolean[] := '{}';
BEGIN
  lost_holds := '{}';
  lost_leaderships := '{}';
  -- Our rows change below, but we set the session locks ourselves (advisory-apply.ts stands aside).
  PERFORM set_config('${DIRECT_SETTING}', 'on', true);
  PERFORM set_config('client_min_messages', 'error', true);
  PERFORM ${n.t('mutex')}(p_keys);
  IF cardinality(p_holders) > 0 THEN
    DELETE FROM ${n.t('holds')} WHERE session_key = p_session AND holder = ANY (p_holders);
  END IF;
  IF cardinality(p_groups) > 0 THEN
    FOR g IN DELETE FROM ${n.t('leaders')} WHERE session_key = p_session AND group_id = ANY (p_groups)
             RETURNING group_id LOOP
      PERFORM pg_notify('${n.eventsChannel}', 'l' || md5(g));
    END LOOP;
  END IF;
  FOR k IN SELECT DISTINCT unnest(p_keys) LOOP
    FOREACH m IN ARRAY ARRAY[false, true] LOOP
      IF ${n.t('try_key')}(k, m) THEN
        wanted := EXISTS (SELECT 1 FROM ${n.t('holds')} WHERE session_key = p_session AND lock_key = k AND shared = m)
          OR (NOT m AND EXISTS (SELECT 1 FROM ${n.t('leaders')} WHERE session_key = p_session AND leader_key = k));
        v_keys := v_keys || k;
        v_modes := v_modes || m;
        v_wanted := v_wanted || wanted;
        IF wanted THEN
          INSERT INTO ${n.t('advisory')} (session_key, lock_key, shared) VALUES (p_session, k, m)
          ON CONFLICT DO NOTHING;
          CONTINUE;
        END IF;
      ELSE
        -- Another session holds k in a conflicting mode, so we hold nothing in this one.
        FOR g IN DELETE FROM ${n.t('holds')} WHERE session_key = p_session AND lock_key = k AND shared = m
                 RETURNING holder LOOP
          lost_holds := lost_holds || g;
        END LOOP;
        IF NOT m THEN
          FOR g IN DELETE FROM ${n.t('leaders')} WHERE session_key = p_session AND leader_key = k
                   RETURNING group_id LOOP
            lost_leaderships := lost_leaderships || g;
            PERFORM pg_notify('${n.eventsChannel}', 'l' || md5(g));
          END LOOP;
        END IF;
      END IF;
      DELETE FROM ${n.t('advisory')} WHERE session_key = p_session AND lock_key = k AND shared = m;
    END LOOP;
    PERFORM ${n.t('wake')}(k);
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(v_keys, 1), 0) LOOP
    WHILE ${n.t('unlock_key')}(v_keys[i], v_modes[i]) LOOP
    END LOOP;
    IF v_wanted[i] THEN
      PERFORM ${n.t('lock_key')}(v_keys[i], v_modes[i]);
    END IF;
  END LOOP;
END $fn$;`,
};

export const repairStatement: SqlStatement = {
  name: 'nc_repair',
  text: (n) => `SELECT lost_holds, lost_leaderships FROM ${n.t('repair')}($1, $2::bigint[], $3::text[], $4::text[])`,
};
