import { LOCK_PRELUDE } from './lock-prelude.js';
import { RedisScript } from './script.js';

/**
 * The lock's operations, one atomic script each, all on the keys of
 * `RedisKeys.lockFamily()`. ARGV[1] is the handle's holder id (its token in
 * the tooz key), ARGV[2] '1' for a shared hold, ARGV[3] the lease in ms.
 */

/**
 * Take the hold if it is free and nobody queues (→ the fencing token), or with
 * ARGV[4] = '1' join the queue (→ {-1, ms until the current hold expires};
 * ARGV[5] is the waiter record's lease, ARGV[6] the channel its grant is
 * published on), else 0.
 */
export const acquireScript = new RedisScript(
  'ncLockAcquire',
  `${LOCK_PRELUDE}
local holder, shared, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
settle()
handoff(lease)
if redis.call('ZCARD', queue) == 0 and grantable(shared) then return take(holder, shared, lease, ARGV[6]) end
if ARGV[4] ~= '1' then return 0 end
local waiterLease = tonumber(ARGV[5])
redis.call('ZADD', queue, redis.call('INCR', fence), holder)
redis.call('HSET', waiters, holder, (NOW + waiterLease) .. '|' .. shared .. '|' .. ARGV[6])
extend(queue, waiterLease)
extend(waiters, waiterLease)
return {-1, redis.call('PTTL', lock)}
`,
);

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
);

/** A pushed grant: the token of the live hold with its lease renewed, or 0 when it is gone. */
export const confirmScript = new RedisScript(
  'ncLockConfirm',
  `${LOCK_PRELUDE}
settle()
return confirm(ARGV[1], ARGV[2], tonumber(ARGV[3]))
`,
);

/**
 * A queued waiter's beat: renew its record (ARGV[4] its lease), serve the
 * queue (a holder that died without releasing), and answer the token when it
 * was granted (its push may have been missed), {-1, ms until the current hold
 * expires} while it still queues, or 0 when it is neither (its place lapsed).
 */
export const waitingScript = new RedisScript(
  'ncLockWaiting',
  `${LOCK_PRELUDE}
local holder, shared, lease, waiterLease = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
settle()
local record = redis.call('HGET', waiters, holder)
if record then
  local channel = string.match(record, '^%d+|[01]|(.*)$')
  redis.call('HSET', waiters, holder, (NOW + waiterLease) .. '|' .. shared .. '|' .. channel)
  extend(queue, waiterLease)
  extend(waiters, waiterLease)
end
handoff(lease)
local token = confirm(holder, shared, lease)
if token > 0 then return token end
if redis.call('ZSCORE', queue, holder) then return {-1, redis.call('PTTL', lock)} end
return 0
`,
);

/** Leave the queue; a grant that raced the withdrawal is answered (its token) so the caller releases it. */
export const withdrawScript = new RedisScript(
  'ncLockWithdraw',
  `${LOCK_PRELUDE}
local holder, shared, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('ZREM', queue, holder)
redis.call('HDEL', waiters, holder)
settle()
local token = confirm(holder, shared, lease)
handoff(lease)
return token
`,
);

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
);

/** Remove every hold (→ 1 if there was one) and hand the lock to the head of the queue. */
export const breakScript = new RedisScript(
  'ncLockBreak',
  `${LOCK_PRELUDE}
local had = redis.call('EXISTS', lock)
redis.call('DEL', lock, readers, grants)
handoff(tonumber(ARGV[3]))
return had
`,
);

/**
 * The beat of holds (and leaderships, whose keys are plain tooz locks):
 * KEYS are triples (lock key, readers key, grants key), ARGV[1] the lease,
 * then a holder and a shared flag per triple. Answers 1 (renewed) or 0
 * (gone) per triple. The grants hash lives as long as the holds it records,
 * so a holder that dies after holding for long is still known by its channel.
 */
export const refreshScript = new RedisScript(
  'ncRefresh',
  `
local t = redis.call('TIME')
local NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local function extend(key)
  if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, lease) end
end
local kept = {}
for i = 1, #KEYS, 3 do
  local lock, readers, grants = KEYS[i], KEYS[i + 1], KEYS[i + 2]
  local pair = (i + 2) / 3
  local holder, shared = ARGV[2 * pair], ARGV[2 * pair + 1]
  local ok = 0
  if shared == '1' then
    local expiry = redis.call('GET', lock) == '__shared__' and redis.call('HGET', readers, holder)
    if expiry and tonumber(expiry) > NOW then
      redis.call('HSET', readers, holder, NOW + lease)
      extend(lock)
      extend(readers)
      ok = 1
    end
  elseif redis.call('GET', lock) == holder then
    redis.call('PEXPIRE', lock, lease)
    ok = 1
  end
  if ok == 1 then extend(grants) end
  kept[#kept + 1] = ok
end
return kept
`,
);
