/**
 * Read by several scripts: drop the members of `group` whose beat key is gone
 * (never `self`), and the Node members whose session channel lost its
 * subscriber (`sessions`: member → session id; the process is gone, Redis
 * dropped its connection). Those lose their beat key too, so a live member
 * whose connection only blinked sees the eviction at its next beat and
 * rejoins. Python tooz members have no session: their beat key decides.
 */
export const PRUNE_LUA = `
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
