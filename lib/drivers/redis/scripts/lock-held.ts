import { decodeFlag, LOCK_PRELUDE } from './lock-prelude.js';
import { RedisScript } from './script.js';

/** 1 while the holder's hold is live. */
export const heldScript = new RedisScript(
  'ncLockHeld',
  `${LOCK_PRELUDE}
local holder, shared = ARGV[1], ARGV[2]
settle()
if shared == '1' then
  if redis.call('GET', lock) == SHARED and redis.call('HEXISTS', readers, holder) == 1 then return 1 end
  return 0
end
if redis.call('GET', lock) == holder then return 1 end
return 0
`,
  decodeFlag,
);
