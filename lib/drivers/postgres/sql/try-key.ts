import type { SqlDefinition } from './statement.js';

/** Try a session advisory lock in the form the key says (lock-keys.ts): ≥ 0 one bigint, < 0 tooz's two ints. */
export const tryKeyFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('try_key')}(k bigint, is_shared boolean) RETURNS boolean
LANGUAGE sql VOLATILE AS $fn$
  SELECT CASE
    WHEN k >= 0 AND is_shared THEN pg_try_advisory_lock_shared(k)
    WHEN k >= 0 THEN pg_try_advisory_lock(k)
    WHEN is_shared THEN pg_try_advisory_lock_shared(((-1 - k) >> 8)::int4, ((-1 - k) & 255)::int4)
    ELSE pg_try_advisory_lock(((-1 - k) >> 8)::int4, ((-1 - k) & 255)::int4)
  END
$fn$;`,
};
