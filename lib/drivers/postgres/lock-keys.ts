import { createHash, randomBytes } from 'node:crypto';
import type { PostgresLockKeyStyle } from './postgres-options.js';

/** 2^63 − 1: wide keys are positive, so they never meet tooz's pair keys, which we store negative. */
const POSITIVE_63 = (1n << 63n) - 1n;

/** A positive 63-bit key from the first 8 bytes of a SHA-256. */
function wideKey(...parts: string[]): bigint {
  const digest = createHash('sha256').update(parts.join('\0'), 'utf8').digest();
  return digest.readBigUInt64BE(0) & POSITIVE_63;
}

/**
 * Advisory-lock keys, one bigint per lock, as stored in our tables and
 * passed to the SQL functions (docs/postgresql.md, "Lock keys"):
 *
 * - `wide` (default): a positive 63-bit hash of namespace and name, taken
 *   with the one-bigint form `pg_advisory_lock(key)`;
 * - `tooz`: tooz's key, `md5(name)[0]` and `md5(name)[1]` through the
 *   two-int form `pg_advisory_lock(k1, k2)`, stored as `-1 - (k1 << 8 | k2)`
 *   (−65 536 … −1) so the SQL knows which form to call.
 *
 * Leadership keys and session keys are always wide (tooz has neither on PostgreSQL).
 */
export class LockKeys {
  constructor(
    private readonly namespace: string,
    private readonly style: PostgresLockKeyStyle,
  ) {}

  lock(name: string): bigint {
    if (this.style === 'wide') return wideKey(this.namespace, 'lock', name);
    const digest = createHash('md5').update(name, 'utf8').digest();
    return -1n - BigInt((digest[0]! << 8) | digest[1]!);
  }

  leader(groupId: string): bigint {
    return wideKey(this.namespace, 'leader', groupId);
  }
}

/** A fresh session key: a random positive 62-bit number (its advisory lock says the session lives). */
export function newSessionKey(): bigint {
  return randomBytes(8).readBigUInt64BE(0) >> 2n;
}

/** The tooz pair of a `tooz`-style key, for messages and tests: `[md5[0], md5[1]]`. */
export function toozPair(key: bigint): [number, number] {
  const pair = Number(-1n - key);
  return [pair >> 8, pair & 255];
}
