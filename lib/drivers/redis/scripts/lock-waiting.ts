import { decodeQueueReply, LOCK_PRELUDE, type QueueReply } from './lock-prelude.js';
import { RedisScript } from './script.js';

/** Lapsed: neither queued nor granted (its place or its grant ran out): to queue again. */
export type WaitingReply = QueueReply | { kind: 'lapsed' };

/**
 * A queued waiter's beat: renew its record (ARGV[4] its lease), serve the
 * queue (a holder that died without releasing), and answer the token when it
 * was granted (its push may have been missed), {-1, ms until the current hold
 * expires} while it still queues (or while its own channel has no subscriber:
 * a grant is confirmed only once it has one), or 0 when it is neither.
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
if token == -2 or redis.call('ZSCORE', queue, holder) then return {-1, look_again_in()} end
return 0
`,
  (reply): WaitingReply => decodeQueueReply(reply) ?? { kind: 'lapsed' },
);
