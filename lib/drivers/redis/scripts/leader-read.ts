import { RedisScript } from './script.js';

/** KEYS: leader key, group hash. -1 no group, else the leader's token or false. */
export const leaderScript = new RedisScript(
  'ncLeader',
  `
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
return redis.call('GET', KEYS[1])
`,
);
