import { decodeToken, LOCK_PRELUDE } from './lock-prelude.js';
import { RedisScript } from './script.js';

export type ConfirmReply = { kind: 'granted'; token: bigint } | { kind: 'gone' } | { kind: 'unsubscribed' };

/** A pushed grant: the token of the live hold with its lease renewed, 0 when it is gone, -2 refused (unsubscribed). */
export const confirmScript = new RedisScript(
  'ncLockConfirm',
  `${LOCK_PRELUDE}
settle()
return confirm(ARGV[1], ARGV[2], tonumber(ARGV[3]))
`,
  (reply): ConfirmReply => decodeToken(reply) ?? (reply === -2 ? { kind: 'unsubscribed' } : { kind: 'gone' }),
);
