import { decodeFlag, LOCK_PRELUDE } from './lock-prelude.js';
import { RedisScript } from './script.js';

/** End the hold (→ 1, or 0 when it was not there) and hand the lock to the head of the queue. */
export const releaseScript = new RedisScript(
  'ncLockRelease',
  `${LOCK_PRELUDE}
local holder, shared, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
settle()
local released = 0
if shared == '1' then
  if redis.call('GET', lock) == SHARED and redis.call('HDEL', readers, holder) == 1 then released = 1 end
  settle_readers()
elseif redis.call('GET', lock) == holder then
  redis.call('DEL', lock)
  released = 1
end
redis.call('HDEL', grants, holder)
handoff(lease)
return released
`,
  decodeFlag,
);
