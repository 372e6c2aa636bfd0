import { NOW_LUA, RedisScript } from './script.js';

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
  (reply): 'joined' | 'no group' | 'already a member' =>
    reply === -1 ? 'no group' : reply === -3 ? 'already a member' : 'joined',
);
