import { Characteristic, ReadOnlySet } from '../../core/characteristic.js';
import { Coordinator } from '../../core/coordinator.js';
import type { CoordinatorOptions } from '../../core/coordinator-options.js';
import { assertKnownOptions, durationOption, queryOptions } from '../../core/url-options.js';
import { MemoryDriver, type MemoryTimeouts } from './memory-driver.js';
import { memoryStore } from './memory-store.js';

const CHARACTERISTICS = [
  Characteristic.DistributedAcrossThreads,
  Characteristic.Linearizable,
  Characteristic.SameViewAcrossClients,
];

/** tooz's Redis defaults, so moving from `memory://` to `redis://` changes no timing. */
export const DEFAULT_MEMBERSHIP_TIMEOUT_MS = 30_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/** `timeout=` and `lock_timeout=` from a `memory://` URL, in ms (an options object wins). */
export function memoryTimeouts(url: URL, options: CoordinatorOptions): MemoryTimeouts {
  const query = queryOptions(url);
  assertKnownOptions(query, ['timeout', 'lock_timeout'], url);
  return {
    membershipTimeoutMs: durationOption(query, 'timeout', options.membershipTimeoutMs, DEFAULT_MEMBERSHIP_TIMEOUT_MS),
    lockTimeoutMs: durationOption(query, 'lock_timeout', options.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS),
  };
}

/** The driver for `url`: one store per `memory://<name>` in this process. */
export function memoryDriver(url: URL, memberId: string, options: CoordinatorOptions): MemoryDriver {
  const name = url.host + url.pathname.replace(/^\/+$/, '');
  return new MemoryDriver(memoryStore(name), memberId, memoryTimeouts(url, options));
}

/**
 * `memory://[name]`: the embedded driver. Many coordinators in one process
 * share a store per name; expiry behaves as on the network drivers.
 */
export class MemoryCoordinator extends Coordinator {
  readonly characteristics: ReadonlySet<Characteristic> = new ReadOnlySet(CHARACTERISTICS);

  constructor(url: URL, memberId: string, options: CoordinatorOptions = {}) {
    super(memberId, options, memoryDriver(url, memberId, options));
  }
}
