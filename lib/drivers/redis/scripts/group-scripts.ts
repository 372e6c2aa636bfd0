import { NOW_LUA, RedisScript } from './script.js';

/**
 * Groups and members in tooz's layout: the set `<ns>_groups`, one hash per
 * group (`__created__` → "1", member → msgpack capabilities), one beat key
 * per member. Join and update times live in our own hash beside it (tooz
 * ignores it). Every change is published on the group's events channel.
 * Errors come back as negative numbers: -1 no group, -2 member missing,
 * -3 group not empty (or, for a join, already a member).
 */

/** KEYS: group hash, groups set. ARGV: group id. 1 created, 0 it exists (tooz's script). */
export const createGroupScript = new RedisScript(
  'ncCreateGroup',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], '__created__', '1')
return 1
`,
);

/**
 * Read by several scripts: drop the members of `group` whose beat key is gone
 * (never `self`), and the Node members whose session channel lost its
 * subscriber (`sessions`: member → session id; the process is gone, Redis
 * dropped its connection). Those lose their beat key too, so a live member
 * whose connection only blinked sees the eviction at its next beat and
 * rejoins. Python tooz members have no session: their beat key decides.
 */
const PRUNE_LUA = `
local function session_gone(sessions, session_prefix, member)
  local session = redis.call('HGET', sessions, member)
  if not session then return false end
  if redis.call('PUBSUB', 'NUMSUB', session_prefix .. session)[2] > 0 then return false end
  redis.call('HDEL', sessions, member)
  return true
end

local function live_members(group, info, beat_prefix, self, channel, sessions, session_prefix)
  local members = {}
  for _, field in ipairs(redis.call('HKEYS', group)) do
    if field ~= '__created__' then members[#members + 1] = field end
  end
  if #members == 0 then return members end
  local beat_keys = {}
  for i, member in ipairs(members) do beat_keys[i] = beat_prefix .. member end
  local beats = redis.call('MGET', unpack(beat_keys))
  local live, pruned = {}, false
  for i, member in ipairs(members) do
    local beating = beats[i] and beats[i] ~= ''
    if beating and member ~= self and session_gone(sessions, session_prefix, member) then
      redis.call('DEL', beat_prefix .. member)
      beating = false
    end
    if beating or member == self then
      live[#live + 1] = member
    else
      redis.call('HDEL', group, member)
      redis.call('HDEL', info, member)
      pruned = true
    end
  end
  if pruned then redis.call('PUBLISH', channel, 'members') end
  return live
end
`;

/**
 * KEYS: group hash, groups set, info hash, leader key. ARGV: group id, beat
 * prefix, self, channel, sessions hash, session channel prefix. Dead members do not count against emptiness; the
 * group's leadership goes with it.
 */
export const deleteGroupScript = new RedisScript(
  'ncDeleteGroup',
  `${PRUNE_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return -1 end
if #live_members(KEYS[1], KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]) > 0 then return -3 end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
redis.call('PUBLISH', ARGV[4], 'deleted')
return 1
`,
);

/** KEYS: group hash, info hash. ARGV: member, capabilities, channel. Never overwrites (tooz's join does). */
export const joinScript = new RedisScript(
  'ncJoin',
  `${NOW_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return -3 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], NOW .. ',' .. NOW)
redis.call('PUBLISH', ARGV[3], 'members')
return 1
`,
);

/** KEYS: group hash, info hash. ARGV: member, channel. */
export const leaveScript = new RedisScript(
  'ncLeave',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return -2 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], 'members')
return 1
`,
);

/** KEYS: group hash, info hash. ARGV: member, capabilities. */
export const updateCapabilitiesScript = new RedisScript(
  'ncUpdateCapabilities',
  `${NOW_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local created = string.match(redis.call('HGET', KEYS[2], ARGV[1]) or '', '^(%d+),') or NOW
redis.call('HSET', KEYS[2], ARGV[1], created .. ',' .. NOW)
return 1
`,
);

/**
 * Live members of many groups at once. KEYS: pairs (group hash, info hash).
 * ARGV: beat prefix, self, sessions hash, session channel prefix, then one
 * events channel per pair. Answers per pair {0} for a missing group, else
 * {1, member…}.
 */
export const membersScript = new RedisScript(
  'ncMembers',
  `${PRUNE_LUA}
local out = {}
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    out[#out + 1] = {0}
  else
    local row = {1}
    local channel = ARGV[4 + (i + 1) / 2]
    for _, member in ipairs(live_members(KEYS[i], KEYS[i + 1], ARGV[1], ARGV[2], channel, ARGV[3], ARGV[4])) do
      row[#row + 1] = member
    end
    out[#out + 1] = row
  end
end
return out
`,
);

/**
 * KEYS: group hash, info hash. ARGV: beat prefix, self, channel, sessions
 * hash, session channel prefix. -1, or a flat list member, capabilities…
 */
export const membersWithCapabilitiesScript = new RedisScript(
  'ncMembersWithCapabilities',
  `${PRUNE_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local out = {}
for _, member in ipairs(live_members(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])) do
  out[#out + 1] = member
  out[#out + 1] = redis.call('HGET', KEYS[1], member)
end
return out
`,
);

/**
 * KEYS: group hash, info hash, the member's beat key. ARGV: member, self.
 * -1 no group, -2 not a (live) member, else {capabilities, "created,updated"}.
 */
export const memberScript = new RedisScript(
  'ncMember',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local capabilities = redis.call('HGET', KEYS[1], ARGV[1])
if not capabilities then return -2 end
local beat = redis.call('GET', KEYS[3])
if ARGV[1] ~= ARGV[2] and (not beat or beat == '') then return -2 end
return {capabilities, redis.call('HGET', KEYS[2], ARGV[1]) or ''}
`,
);
