import { decodeQueueReply, LOCK_PRELUDE, type QueueReply } from './lock-prelude.js';
import { RedisScript } from './script.js';

/** Refused: not grantable and not to wait; unsubscribed: the caller's channel has no subscriber here. */
export type AcquireReply = QueueReply | { kind: 'refused' } | { kind: 'unsubscribed' };

const UNSUBSCRIBED = -2;

/**
 * Take the hold if it is free and nobody queues (→ the fencing token), or with
 * ARGV[4] = '1' join the queue (→ {-1, ms until the current hold expires};
 * ARGV[5] is the waiter record's lease, ARGV[6] the channel its grant is
 * published on), else 0; -2 (refused) while the caller's own channel ARGV[6]
 * has no subscriber here: a session that may have been dropped is granted
 * nothing and queues nowhere (docs/redis.md#failover).
 */
export const acquireScript = new RedisScript(
  'ncLockAcquire',
  `${LOCK_PRELUDE}
local holder, shared, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
if not subscribed(ARGV[6]) then return -2 end
settle()
handoff(lease)
if redis.call('ZCARD', queue) == 0 and grantable(shared) then return take(holder, shared, lease, ARGV[6]) end
if ARGV[4] ~= '1' then return 0 end
local waiterLease = tonumber(ARGV[5])
redis.call('ZADD', queue, next_fence(), holder)
redis.call('HSET', waiters, holder, (NOW + waiterLease) .. '|' .. shared .. '|' .. ARGV[6])
extend(queue, waiterLease)
extend(waiters, waiterLease)
return {-1, look_again_in()}
`,
  (reply): AcquireReply =>
    decodeQueueReply(reply) ?? (reply === UNSUBSCRIBED ? { kind: 'unsubscribed' } : { kind: 'refused' }),
);
