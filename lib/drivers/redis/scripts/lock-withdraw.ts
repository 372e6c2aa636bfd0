import { decodeToken, LOCK_PRELUDE } from './lock-prelude.js';
import { RedisScript } from './script.js';

/** Leave the queue; a grant that raced the withdrawal is answered (its token) so the caller releases it. */
export const withdrawScript = new RedisScript(
  'ncLockWithdraw',
  `${LOCK_PRELUDE}
local holder, shared, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('ZREM', queue, holder)
redis.call('HDEL', waiters, holder)
settle()
local token = confirm(holder, shared, lease, true)
handoff(lease)
return token
`,
  (reply): bigint | null => decodeToken(reply)?.token ?? null,
);
