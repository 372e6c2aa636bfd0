import { Characteristic, ReadOnlySet } from '../../core/characteristic.js';
import { Coordinator } from '../../core/coordinator.js';
import type { CoordinatorOptions } from '../../core/coordinator-options.js';
import { PostgresDriver } from './postgres-driver.js';
import { postgresSettings } from './postgres-options.js';

const CHARACTERISTICS = [
  Characteristic.DistributedAcrossThreads,
  Characteristic.DistributedAcrossProcesses,
  Characteristic.DistributedAcrossHosts,
  Characteristic.NonTimeoutBased,
];

/**
 * `postgresql://` and `postgres://` on pg: groups, leaders and locks on
 * session-level advisory locks, so a process that dies lets go of
 * everything at once (docs/postgresql.md). With `lock_key_style=tooz`, its
 * locks exclude Python tooz's on the same names.
 */
export class PostgresCoordinator extends Coordinator {
  readonly characteristics: ReadonlySet<Characteristic> = new ReadOnlySet(CHARACTERISTICS);

  constructor(url: URL, memberId: string, options: CoordinatorOptions = {}) {
    super(memberId, options, new PostgresDriver(postgresSettings(url, options), memberId));
  }
}
