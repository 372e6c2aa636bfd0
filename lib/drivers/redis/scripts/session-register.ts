import { NOW_LUA, RedisScript } from './script.js';
import { SESSION_LUA } from './session-liveness.js';

/**
 * KEYS: `<channel>:node`. ARGV: the session channel, the record's ttl (ms).
 * When the channel has a subscriber on this node (only its own session
 * subscribes to it), records this node's run id there, so NUMSUB is trusted
 * about this session only on the node it subscribed on (after a failover the
 * new primary holds the old primary's run id until the session subscribes
 * again). 1 recorded, 0 not subscribed here.
 */
export const registerSessionScript = new RedisScript(
  'ncRegisterSession',
  `${NOW_LUA}${SESSION_LUA}
if not subscribed(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], run_id(), 'PX', tonumber(ARGV[2]))
return 1
`,
);
