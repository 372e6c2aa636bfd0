import type { SqlDefinition } from './statement.js';

/**
 * Take one level of a session advisory lock, in the form the key says. Only
 * called at commit, with the key reserved by `try_key` in the same mode and
 * transaction: the server then grants it at once, without a wait.
 */
export const lockKeyFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('lock_key')}(k bigint, is_shared boolean) RETURNS boolean
LANGUAGE sql VOLATILE AS $fn$
  SELECT CASE
    WHEN k >= 0 AND is_shared THEN pg_try_advisory_lock_shared(k)
    WHEN k >= 0 THEN pg_try_advisory_lock(k)
    WHEN is_shared THEN pg_try_advisory_lock_shared(((-1 - k) >> 8)::int4, ((-1 - k) & 255)::int4)
    ELSE pg_try_advisory_lock(((-1 - k) >> 8)::int4, ((-1 - k) & 255)::int4)
  END
$fn$;`,
};
