import type { SqlDefinition } from './statement.js';

/** The setting naming this connection's session (set by open_session): the trigger acts for it alone. */
export const SESSION_SETTING = 'nestjs_coordination.session';
/** Set for one transaction by statements that take and let go of session locks themselves (repair, stop). */
export const DIRECT_SETTING = 'nestjs_coordination.direct';

/**
 * Session advisory locks are not transactional: a statement that let go of
 * one and then failed would keep the unlock while its rows rolled back (two
 * holders), and one that took one would leak it. So statements only write
 * `<prefix>advisory` rows (reserving the key with a transaction lock), and
 * this deferred trigger takes or lets go of the session lock for each row
 * of this session at commit, the last thing the statement does
 * (docs/postgresql.md#when-a-statement-fails-half-way).
 */
export const advisoryApplyFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('advisory_apply')}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF current_setting('${DIRECT_SETTING}', true) IS NOT DISTINCT FROM 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.session_key::text = current_setting('${SESSION_SETTING}', true) THEN
      PERFORM ${n.t('lock_key')}(NEW.lock_key, NEW.shared);
    END IF;
  ELSIF OLD.session_key::text = current_setting('${SESSION_SETTING}', true) THEN
    PERFORM ${n.t('unlock_key')}(OLD.lock_key, OLD.shared);
  END IF;
  RETURN NULL;
END $fn$;
DO $do$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                 WHERE tgrelid = '${n.t('advisory')}'::regclass AND tgname = '${n.prefix}advisory_apply') THEN
    CREATE CONSTRAINT TRIGGER "${n.prefix}advisory_apply" AFTER INSERT OR DELETE ON ${n.t('advisory')}
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${n.t('advisory_apply')}();
  END IF;
END $do$;`,
};
