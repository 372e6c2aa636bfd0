import { decodeFlag, LOCK_PRELUDE } from './lock-prelude.js';
import { RedisScript } from './script.js';

/** Remove every hold (→ 1 if there was one) and hand the lock to the head of the queue. */
export const breakScript = new RedisScript(
  'ncLockBreak',
  `${LOCK_PRELUDE}
local had = redis.call('EXISTS', lock)
redis.call('DEL', lock, readers, grants)
handoff(tonumber(ARGV[3]))
return had
`,
  decodeFlag,
);
