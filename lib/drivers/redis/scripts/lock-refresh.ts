import { NOW_LUA, RedisScript } from './script.js';
import { SESSION_LUA } from './session-liveness.js';

/**
 * The beat of holds (and leaderships, whose keys are plain tooz locks):
 * KEYS are triples (lock key, readers key, grants key), ARGV[1] the lease,
 * ARGV[2] the caller's session channel, then a holder and a shared flag per
 * triple. Answers 1 (renewed) or 0 (gone) per triple; all 0, renewing
 * nothing, while the caller's channel has no subscriber here (others may
 * take its holds once the grace ends). The grants hash lives as long as the
 * holds it records, so a holder that dies after holding for long is still
 * known by its channel.
 */
export const refreshScript = new RedisScript(
  'ncRefresh',
  `${NOW_LUA}${SESSION_LUA}
local lease = tonumber(ARGV[1])
local renewing = subscribed(ARGV[2])
local function extend(key)
  if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, lease) end
end
local kept = {}
for i = 1, #KEYS, 3 do
  local lock, readers, grants = KEYS[i], KEYS[i + 1], KEYS[i + 2]
  local pair = (i + 2) / 3
  local holder, shared = ARGV[2 * pair + 1], ARGV[2 * pair + 2]
  local ok = 0
  if not renewing then -- nothing renewed: each is reported lost
  elseif shared == '1' then
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
  (reply): boolean[] => (reply as number[]).map((kept) => kept === 1),
);
