import { NOW_LUA, RedisScript } from './script.js';
import { SESSION_LUA } from './session-liveness.js';

/**
 * Win or keep many leaderships at once. KEYS: pairs (leader key, group hash).
 * ARGV: token, lease, the session channel prefix, then one events channel per
 * pair. Answers 1 (leads) or 0 per pair, or -2 (refused: nothing won or
 * kept) while the caller's own session channel has no subscriber here. A
 * Node leader whose session is gone (its channel had no subscriber for the
 * grace: Redis dropped the connection) is replaced; a Python tooz leader's
 * lease has to run out.
 */
export const electScript = new RedisScript(
  'ncElect',
  `${NOW_LUA}${SESSION_LUA}
local token, lease, session_prefix = ARGV[1], tonumber(ARGV[2]), ARGV[3]
if not subscribed(session_prefix .. string.match(token, '^(%x+):')) then return -2 end
local led = {}
for i = 1, #KEYS, 2 do
  local current = redis.call('GET', KEYS[i])
  if current and current ~= token then
    local session = string.match(current, '^(%x+):')
    if session and #session == 32 and liveness(session_prefix .. session) == 'gone' then
      redis.call('DEL', KEYS[i])
      current = nil
    end
  end
  if current == token then
    redis.call('PEXPIRE', KEYS[i], lease)
    led[#led + 1] = 1
  elseif not current and redis.call('EXISTS', KEYS[i + 1]) == 1 then
    redis.call('SET', KEYS[i], token, 'PX', lease)
    redis.call('PUBLISH', ARGV[3 + (i + 1) / 2], 'leader')
    led[#led + 1] = 1
  else
    led[#led + 1] = 0
  end
end
return led
`,
  (reply): boolean[] | 'unsubscribed' => (reply === -2 ? 'unsubscribed' : (reply as number[]).map((led) => led === 1)),
);
