import { PRUNE_LUA } from './prune.js';
import { RedisScript } from './script.js';

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
  (reply): Map<string, Uint8Array> | 'no group' => {
    if (reply === -1) return 'no group';
    const flat = reply as Buffer[];
    const members = new Map<string, Uint8Array>();
    for (let i = 0; i < flat.length; i += 2) members.set(flat[i]!.toString('utf8'), new Uint8Array(flat[i + 1]!));
    return members;
  },
);
