import { NOW_LUA } from './script.js';
import { SESSION_LUA } from './session-liveness.js';

/** Beat keys read per MGET: Lua's unpack() fails past about 8 000 values. */
const BEATS_PER_READ = 1_000;

/**
 * Read by several scripts: drop the members of `group` whose beat key is gone
 * (never `self`), and the Node members whose session is gone (`sessions`:
 * member → session id; its channel had no subscriber for the grace: the
 * process is gone, Redis dropped its connection). Those lose their beat key too, so a live member
 * whose connection only blinked sees the eviction at its next beat and
 * rejoins. Python tooz members have no session: their beat key decides.
 */
export const PRUNE_LUA = `${NOW_LUA}${SESSION_LUA}
local function session_gone(sessions, session_prefix, member)
  local session = redis.call('HGET', sessions, member)
  if not session then return false end
  if liveness(session_prefix .. session) ~= 'gone' then return false end
  redis.call('HDEL', sessions, member)
  return true
end

-- The beat values of members, read in chunks (unpack() of a whole large group fails).
local function read_beats(beat_prefix, members)
  local beats = {}
  for first = 1, #members, ${BEATS_PER_READ} do
    local keys = {}
    for i = first, math.min(first + ${BEATS_PER_READ} - 1, #members) do keys[#keys + 1] = beat_prefix .. members[i] end
    local values = redis.call('MGET', unpack(keys))
    for i = 1, #keys do beats[first + i - 1] = values[i] end
  end
  return beats
end

local function live_members(group, info, beat_prefix, self, channel, sessions, session_prefix)
  local members = {}
  for _, field in ipairs(redis.call('HKEYS', group)) do
    if field ~= '__created__' then members[#members + 1] = field end
  end
  if #members == 0 then return members end
  local beats = read_beats(beat_prefix, members)
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
