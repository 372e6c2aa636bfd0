import { RedisScript } from './script.js';

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
  (reply): 'left' | 'no group' | 'not a member' => (reply === -1 ? 'no group' : reply === -2 ? 'not a member' : 'left'),
);
