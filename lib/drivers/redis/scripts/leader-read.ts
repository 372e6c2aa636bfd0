import { RedisScript } from './script.js';

/** KEYS: leader key, group hash. -1 no group, else the leader's token or false. */
export const leaderScript = new RedisScript(
  'ncLeader',
  `
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
return redis.call('GET', KEYS[1])
`,
  (reply): string | null | 'no group' => {
    if (reply === -1) return 'no group';
    if (typeof reply !== 'string') return null;
    // Ours are `<32 hex>:<member>`; a Python tooz leader's token names nobody.
    return /^[0-9a-f]{32}:([\s\S]+)$/.exec(reply)?.[1] ?? null;
  },
);
