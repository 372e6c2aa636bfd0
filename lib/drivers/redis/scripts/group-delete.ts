import { PRUNE_LUA } from './prune.js';
import { RedisScript } from './script.js';

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
  (reply): 'deleted' | 'no group' | 'not empty' => (reply === -1 ? 'no group' : reply === -3 ? 'not empty' : 'deleted'),
);
