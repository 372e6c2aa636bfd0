import { Characteristic, ReadOnlySet } from '../../core/characteristic.js';
import { Coordinator } from '../../core/coordinator.js';
import type { CoordinatorOptions } from '../../core/coordinator-options.js';
import { RedisDriver } from './redis-driver.js';
import { redisSettings } from './redis-options.js';

const CHARACTERISTICS = [
  Characteristic.DistributedAcrossThreads,
  Characteristic.DistributedAcrossProcesses,
  Characteristic.DistributedAcrossHosts,
  Characteristic.Causal,
];

/**
 * `redis://` and `rediss://` on ioredis, wire-compatible with tooz's Redis
 * driver: a Python tooz service and this one see each other in the same
 * groups and exclude each other on the same locks and leaderships.
 */
export class RedisCoordinator extends Coordinator {
  readonly characteristics: ReadonlySet<Characteristic> = new ReadOnlySet(CHARACTERISTICS);

  constructor(url: URL, memberId: string, options: CoordinatorOptions = {}) {
    super(memberId, options, new RedisDriver(redisSettings(url, options), memberId));
  }
}
