import { RedisScript } from './script.js';

/**
 * A group's leadership is tooz's lock `leader_of_<group>`, so a Python tooz
 * candidate and a Node one exclude each other. Our token is
 * `<session>:<member>`, which lets `getLeader` name a Node leader (tooz's
 * tokens carry no member id).
 */

/**
 * Win or keep many leaderships at once. KEYS: pairs (leader key, group hash).
 * ARGV: token, lease, then one channel per pair. Answers 1 (leads) or 0 per pair.
 */
export const electScript = new RedisScript(
  'ncElect',
  `
local token, lease = ARGV[1], tonumber(ARGV[2])
local led = {}
for i = 1, #KEYS, 2 do
  local current = redis.call('GET', KEYS[i])
  if current == token then
    redis.call('PEXPIRE', KEYS[i], lease)
    led[#led + 1] = 1
  elseif not current and redis.call('EXISTS', KEYS[i + 1]) == 1 then
    redis.call('SET', KEYS[i], token, 'PX', lease)
    redis.call('PUBLISH', ARGV[2 + (i + 1) / 2], 'leader')
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
