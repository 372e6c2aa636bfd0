import { RedisScript } from './script.js';

/**
 * Win or keep many leaderships at once. KEYS: pairs (leader key, group hash).
 * ARGV: token, lease, the session channel prefix, then one events channel per
 * pair. Answers 1 (leads) or 0 per pair. A Node leader whose session channel
 * has no subscriber left (its process is gone: Redis dropped the connection)
 * is replaced at once; a Python tooz leader's lease has to run out.
 */
export const electScript = new RedisScript(
  'ncElect',
  `
local token, lease, session_prefix = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local led = {}
for i = 1, #KEYS, 2 do
  local current = redis.call('GET', KEYS[i])
  if current and current ~= token then
    local session = string.match(current, '^(%x+):')
    if session and #session == 32 and redis.call('PUBSUB', 'NUMSUB', session_prefix .. session)[2] == 0 then
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
);
