import { RedisScript } from './script.js';

/** KEYS: group hash, groups set. ARGV: group id. 1 created, 0 it exists (tooz's script). */
export const createGroupScript = new RedisScript(
  'ncCreateGroup',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], '__created__', '1')
return 1
`,
  (reply): boolean => reply === 1,
);
