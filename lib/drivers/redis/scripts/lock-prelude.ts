import { NOW_LUA } from './script.js';
import { SESSION_LUA } from './session-liveness.js';

/**
 * Shared by every script on one lock. KEYS: the tooz lock key (absent, a
 * holder's token, or `__shared__` while readers hold it), the FIFO queue
 * (zset holder → arrival), waiter records (holder → `expiry|shared|channel`),
 * readers (holder → lease end), grants (holder → `token|channel`: the fencing
 * token and the session channel whose subscriber proves the holder's process
 * alive) and the namespace's fencing counter. A hold is handed to the head of the queue in
 * the same script that ends the previous one, so no newcomer can barge in.
 * Tokens are written with string.format('%d'): Lua 5.1 would write a
 * 16-digit token with %.14g and lose digits.
 */
export const LOCK_PRELUDE = `${NOW_LUA}${SESSION_LUA}
local lock, queue, waiters, readers, grants, fence = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local SHARED = '__shared__'

local function extend(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end

local function state()
  local value = redis.call('GET', lock)
  if not value then return 'free' end
  if value == SHARED then return 'shared' end
  return 'exclusive'
end

-- The next fencing token. A missing counter (Redis lost its data) starts from the server clock in
-- microseconds, so tokens keep rising across the loss (docs/redis.md#fencing-tokens).
local function next_fence()
  if redis.call('EXISTS', fence) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', fence, t[1] .. string.format('%06d', tonumber(t[2])))
  end
  return redis.call('INCR', fence)
end

-- The session channel a hold was granted to (grants: holder → "token|channel"), or nil.
local function channel_of(holder)
  local grant = redis.call('HGET', grants, holder)
  if not grant then return nil end
  return string.match(grant, '^%d+|(.*)$')
end

-- A holder whose process is gone (its session channel has had no subscriber for the grace: Redis
-- dropped it with the connection) holds nothing: its lease need not run out.
local function reap()
  local value = redis.call('GET', lock)
  if not value then return end
  if value == SHARED then
    for _, reader in ipairs(redis.call('HKEYS', readers)) do
      local channel = channel_of(reader)
      if channel and liveness(channel) == 'gone' then
        redis.call('HDEL', readers, reader)
        redis.call('HDEL', grants, reader)
      end
    end
  else
    local channel = channel_of(value)
    if channel and liveness(channel) == 'gone' then
      redis.call('DEL', lock)
      redis.call('HDEL', grants, value)
    end
  end
end

-- Readers whose lease ended are dropped; the lock key lives as long as the last reader.
local function settle_readers()
  if redis.call('GET', lock) ~= SHARED then
    redis.call('DEL', readers)
    return
  end
  local flat = redis.call('HGETALL', readers)
  local last = 0
  for i = 1, #flat, 2 do
    local expiry = tonumber(flat[i + 1])
    if expiry <= NOW then redis.call('HDEL', readers, flat[i])
    elseif expiry > last then last = expiry end
  end
  if last == 0 then redis.call('DEL', lock) else redis.call('PEXPIRE', lock, last - NOW) end
end

-- Before any decision: drop holds of dead processes and expired readers.
local function settle()
  reap()
  settle_readers()
end

local function take(holder, shared, lease, channel)
  if shared == '1' then
    if redis.call('GET', lock) ~= SHARED then redis.call('DEL', readers) end
    redis.call('HSET', readers, holder, NOW + lease)
    if redis.call('GET', lock) ~= SHARED then redis.call('SET', lock, SHARED, 'PX', lease) else extend(lock, lease) end
    extend(readers, lease)
  else
    redis.call('SET', lock, holder, 'PX', lease)
  end
  local token = next_fence()
  redis.call('HSET', grants, holder, string.format('%d', token) .. '|' .. channel)
  extend(grants, lease)
  return token
end

local function grantable(shared)
  local current = state()
  if shared == '1' then return current ~= 'exclusive' end
  return current == 'free'
end

-- Serve the queue from its head while the head fits: skip waiters whose record
-- lapsed or whose session is gone, stop at one whose channel is quiet (it is
-- granted nothing unsubscribed, and may be back within the grace), grant and
-- notify the others on their channel.
local function handoff(lease)
  while true do
    local head = redis.call('ZRANGE', queue, 0, 0)[1]
    if not head then return end
    local record = redis.call('HGET', waiters, head)
    local expiry, shared, channel
    if record then expiry, shared, channel = string.match(record, '^(%d+)|([01])|(.*)$') end
    local state = record and tonumber(expiry) > NOW and liveness(channel)
    if not state or state == 'gone' then
      redis.call('ZREM', queue, head)
      redis.call('HDEL', waiters, head)
    elseif state == 'quiet' then
      return
    else
      if not grantable(shared) then return end
      local token = take(head, shared, lease, channel)
      redis.call('ZREM', queue, head)
      redis.call('HDEL', waiters, head)
      redis.call('PUBLISH', channel, 'granted ' .. head .. ' ' .. string.format('%d', token))
      if shared == '0' then return end
    end
  end
end

-- The token of holder's live hold, its lease renewed; 0 when it holds nothing; -2 (refused) when
-- its own session channel has no subscriber here, unless only a withdrawal wants it back.
local function confirm(holder, shared, lease, unsubscribed_too)
  local grant = redis.call('HGET', grants, holder)
  if not grant then return 0 end
  local token, channel = string.match(grant, '^(%d+)|(.*)$')
  if not unsubscribed_too and not subscribed(channel) then return -2 end
  if shared == '1' then
    if redis.call('GET', lock) ~= SHARED or not redis.call('HGET', readers, holder) then return 0 end
    redis.call('HSET', readers, holder, NOW + lease)
    extend(lock, lease)
    extend(readers, lease)
  else
    if redis.call('GET', lock) ~= holder then return 0 end
    redis.call('PEXPIRE', lock, lease)
  end
  extend(grants, lease)
  return tonumber(token)
end


-- When a queued waiter should look again: when the current hold expires, or when the grace of a
-- quiet holder or head waiter ends, whichever comes first (-1: no expiry known).
local function look_again_in()
  local ttl = redis.call('PTTL', lock)
  if RECHECK_MS and (ttl < 0 or RECHECK_MS < ttl) then return RECHECK_MS end
  return ttl
end
`;

/** A queued waiter's answer, `{-1, ms}`: ms until the hold ahead ends (or a quiet holder's grace), -1 unknown. */
const isQueued = (reply: unknown): reply is [unknown, unknown] => Array.isArray(reply) && Number(reply[0]) === -1;

/** A lock script's answer for a request that takes or waits: its token, or queued with when to look again. */
export type QueueReply = { kind: 'granted'; token: bigint } | { kind: 'queued'; recheckMs: number | undefined };

/** `{-1, ms}` → queued, a positive integer → granted, anything else → undefined (the script's own codes). */
export function decodeQueueReply(reply: unknown): QueueReply | undefined {
  if (isQueued(reply)) {
    const ms = Number(reply[1]);
    // Just after the hold ahead expires, so the look finds it gone.
    return { kind: 'queued', recheckMs: ms >= 0 ? ms + 2 : undefined };
  }
  return decodeToken(reply);
}

/** A positive token → granted. Tokens stay below 2^53 (docs/redis.md#fencing-tokens). */
export function decodeToken(reply: unknown): { kind: 'granted'; token: bigint } | undefined {
  return typeof reply === 'number' && reply > 0 ? { kind: 'granted', token: BigInt(reply) } : undefined;
}

/** The 1 / 0 answer of release, held and break. */
export const decodeFlag = (reply: unknown): boolean => reply === 1;
