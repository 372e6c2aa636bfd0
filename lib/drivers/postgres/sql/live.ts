import { SESSION_SETTING } from './advisory-apply.js';
import type { SqlDefinition } from './statement.js';

/**
 * Whether session `k` is connected: ours, or its key is held by another
 * backend (a shared transaction lock cannot be had). Read without
 * `pg_locks`, which the server materialises whole whatever the filter, so
 * its cost grows with every lock on the server; the probe goes at commit.
 */
export const liveFunction: SqlDefinition = {
  create: (n) => `
CREATE OR REPLACE FUNCTION ${n.t('live')}(k bigint) RETURNS boolean
LANGUAGE sql VOLATILE AS $fn$
  SELECT coalesce(k::text = current_setting('${SESSION_SETTING}', true), false)
         OR NOT pg_try_advisory_xact_lock_shared(k)
$fn$;`,
};
