import { RedisScript } from './script.js';

/**
 * A group's leadership is tooz's lock `leader_of_<group>`, so a Python tooz
 * candidate and a Node one exclude each other. Our token is
 * `<session>:<member>`, which lets `getLeader` name a Node leader (tooz's
 * tokens carry no member id).
 */

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
);

/** KEYS: leader key, group hash. -1 no group, else the leader's token or false. */
export const leaderScript = new RedisScript(
  'ncLeader',
  `
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
return redis.call('GET', KEYS[1])
`,
);

/** KEYS: the sessions hash. ARGV: member, session id. Forget the member's session if it is still this one. */
export const forgetSessionScript = new RedisScript(
  'ncForgetSession',
  `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
`,
);
