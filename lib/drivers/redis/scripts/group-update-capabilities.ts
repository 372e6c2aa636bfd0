import { NOW_LUA, RedisScript } from './script.js';

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
  (reply): 'updated' | 'no group' | 'not a member' =>
    reply === -1 ? 'no group' : reply === -2 ? 'not a member' : 'updated',
);
