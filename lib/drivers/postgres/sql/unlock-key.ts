import type { SqlDefinition } from './statement.js';

/** Let go of one level of a session advisory lock, in the form the key says. */
export const unlockKeyFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('unlock_key')}(k bigint, is_shared boolean) RETURNS boolean
LANGUAGE sql VOLATILE AS $fn$
  SELECT CASE
    WHEN k >= 0 AND is_shared THEN pg_advisory_unlock_shared(k)
    WHEN k >= 0 THEN pg_advisory_unlock(k)
    WHEN is_shared THEN pg_advisory_unlock_shared(((-1 - k) >> 8)::int4, ((-1 - k) & 255)::int4)
    ELSE pg_advisory_unlock(((-1 - k) >> 8)::int4, ((-1 - k) & 255)::int4)
  END
$fn$;`,
};
