import type { CoordinatorOptions } from '../../core/coordinator-options.js';
import {
  assertKnownCodeOptions,
  assertKnownOptions,
  queryOptions,
  sessionTimeouts,
  TIMEOUT_OPTIONS,
} from '../../core/url-options.js';
import { MemoryDriver, type MemoryTimeouts } from './memory-driver.js';
import { memoryStore } from './memory-store.js';

/**
 * `timeout=`, `membership_timeout=` and `lock_timeout=` from a `memory://`
 * URL, in ms, read as every driver reads them, so moving from `memory://` to
 * `redis://` changes no timing (docs/drivers.md#options); code options win.
 */
export function memoryTimeouts(url: URL, options: CoordinatorOptions): MemoryTimeouts {
  assertKnownCodeOptions(options, url);
  const query = queryOptions(url);
  assertKnownOptions(query, TIMEOUT_OPTIONS, url);
  const { membershipTimeoutMs, lockTimeoutMs } = sessionTimeouts(query, options);
  return { membershipTimeoutMs, lockTimeoutMs };
}

/**
 * The driver for `memory://[name]`: one store per name in this process, so
 * many coordinators in one process share it; expiry behaves as on the
 * network drivers.
 */
export function memoryDriver(url: URL, memberId: string, options: CoordinatorOptions): MemoryDriver {
  const name = url.host + url.pathname.replace(/^\/+$/, '');
  return new MemoryDriver(memoryStore(name), memberId, memoryTimeouts(url, options));
}
