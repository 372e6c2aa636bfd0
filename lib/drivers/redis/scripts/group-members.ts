import { PRUNE_LUA } from './prune.js';
import { RedisScript } from './script.js';

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
  (reply): (Set<string> | null)[] =>
    (reply as [number, ...string[]][]).map(([exists, ...members]) => (exists === 1 ? new Set(members) : null)),
);
