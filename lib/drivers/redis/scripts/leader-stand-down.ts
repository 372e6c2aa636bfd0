import { RedisScript } from './script.js';

/** KEYS: leader key, group hash. ARGV: token, channel. -1 no group, 1 stood down, 0 did not lead. */
export const standDownScript = new RedisScript(
  'ncStandDown',
  `
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'leader')
return 1
`,
  (reply): 'stood down' | 'not ours' | 'no group' =>
    reply === -1 ? 'no group' : reply === 1 ? 'stood down' : 'not ours',
);
