import { RedisScript } from './script.js';

/** KEYS: the sessions hash. ARGV: member, session id. Forget the member's session if it is still this one. */
export const forgetSessionScript = new RedisScript(
  'ncForgetSession',
  `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
`,
);
