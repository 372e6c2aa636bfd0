import type { StoredMember } from '../../../core/coordinator-options.js';
import { RedisScript } from './script.js';

/** Run with `runBuffer` (capabilities are msgpack). */
export type MemberReply = StoredMember | 'no group' | 'not a member';

/**
 * KEYS: group hash, info hash, the member's beat key. ARGV: member, self.
 * -1 no group, -2 not a (live) member, else {capabilities, "created,updated"}.
 */
export const memberScript = new RedisScript(
  'ncMember',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local capabilities = redis.call('HGET', KEYS[1], ARGV[1])
if not capabilities then return -2 end
local beat = redis.call('GET', KEYS[3])
if ARGV[1] ~= ARGV[2] and (not beat or beat == '') then return -2 end
return {capabilities, redis.call('HGET', KEYS[2], ARGV[1]) or ''}
`,
  (reply): MemberReply => {
    if (reply === -1) return 'no group';
    if (reply === -2) return 'not a member';
    const [capabilities, info] = reply as [Buffer, Buffer];
    // A member joined by Python tooz has no recorded times: the epoch says "unknown".
    const [created = 0, updated = created] = info.toString('utf8').split(',').map(Number);
    return { capabilities: new Uint8Array(capabilities), createdAt: new Date(created), updatedAt: new Date(updated) };
  },
);
