/**
 * How long a session channel must have had no subscriber before other
 * members take over what that session had (docs/redis.md#failover). Redis
 * drops a subscriber before its client can know; the client learns of it one
 * network round trip later and ends its holds and leaderships at once, so the
 * grace only has to outlast that round trip and an event-loop stall of the
 * member's process. 1 s is a hundred times a LAN round trip plus a long GC
 * pause, and adds 1 s to the failover of a crashed process.
 */
export const UNSUBSCRIBED_GRACE_MS = 1_000;

/** How long the first-seen-empty record of a channel lives (a dead session's is never cleared by a subscriber). */
const QUIET_RECORD_MS = 60_000;

/**
 * Shared by the scripts that grant, elect, renew or reap (needs NOW_LUA). A
 * session is judged by its channel `<ns>_session:<id>`:
 * - `subscribed(channel)`: it has a subscriber on this node now (a caller's own
 *   channel must, or it is granted and renewed nothing);
 * - `liveness(channel)`: 'up', 'quiet' (no subscriber, but maybe back soon, or
 *   subscribed on another node: `<channel>:node` names the run id of the node
 *   it subscribed on), or 'gone' once it has had no subscriber here for the
 *   grace (`<channel>:quiet-since` holds the server ms it was first seen empty;
 *   seeing it subscribed again clears it). `RECHECK_MS` is then the shortest
 *   time until a quiet channel's grace ends: a waiter looks again at that time.
 */
export const SESSION_LUA = `
local GRACE_MS = ${UNSUBSCRIBED_GRACE_MS}
local RECHECK_MS = nil
local RUN_ID = nil

local function subscribed(channel)
  return redis.call('PUBSUB', 'NUMSUB', channel)[2] > 0
end

local function run_id()
  if not RUN_ID then RUN_ID = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') end
  return RUN_ID
end

local function liveness(channel)
  local quiet = channel .. ':quiet-since'
  if subscribed(channel) then
    redis.call('DEL', quiet)
    return 'up'
  end
  -- Subscribed on another node (a failover): NUMSUB here says nothing, only its lease decides.
  if redis.call('GET', channel .. ':node') ~= run_id() then return 'quiet' end
  local since = tonumber(redis.call('GET', quiet))
  if not since then
    redis.call('SET', quiet, NOW, 'PX', ${QUIET_RECORD_MS})
    since = NOW
  end
  local left = since + GRACE_MS - NOW
  if left <= 0 then return 'gone' end
  if not RECHECK_MS or left < RECHECK_MS then RECHECK_MS = left end
  return 'quiet'
end
`;
