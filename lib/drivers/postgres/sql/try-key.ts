import type { SqlDefinition } from './statement.js';

/**
 * Reserve lock key `k` in a mode for this transaction, in the form the key
 * says (lock-keys.ts): ≥ 0 one bigint, < 0 tooz's two ints. A transaction
 * lock goes with a rollback, so a statement that fails after it leaks
 * nothing; the session lock is taken only at commit (advisory-apply.ts).
 */
export const tryKeyFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('try_key')}(k bigint, is_shared boolean) RETURNS boolean
LANGUAGE sql VOLATILE AS $fn$
  SELECT CASE
    WHEN k >= 0 AND is_shared THEN pg_try_advisory_xact_lock_shared(k)
    WHEN k >= 0 THEN pg_try_advisory_xact_lock(k)
    WHEN is_shared THEN pg_try_advisory_xact_lock_shared(((-1 - k) >> 8)::int4, ((-1 - k) & 255)::int4)
    ELSE pg_try_advisory_xact_lock(((-1 - k) >> 8)::int4, ((-1 - k) & 255)::int4)
  END
$fn$;`,
};
