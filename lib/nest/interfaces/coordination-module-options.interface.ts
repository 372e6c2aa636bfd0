import type { Capabilities } from '../../core/capabilities.js';
import type { Characteristic } from '../../core/characteristic.js';
import type { CoordinatorOptions } from '../../core/coordinator-options.js';

/** A group this member joins at bootstrap (creating it if missing) and leaves at shutdown. */
export interface CoordinationGroupOptions {
  groupId: string;
  capabilities?: Capabilities;
}

/**
 * What `CoordinationModule.forRoot()` takes, and what a `forRootAsync()`
 * factory returns. `isGlobal` shapes the module itself, so it is given
 * beside these (see `CoordinationModuleExtras`).
 */
export interface CoordinationModuleOptions {
  /** Backend URL, tooz-style: `memory://name`, `redis://host:6379?timeout=5`. Default `'memory://'`. */
  url?: string;
  /** This member's id. Default: host name, pid and a random suffix. */
  memberId?: string;
  heartbeat?: {
    /** Default: on (every driver needs its beat; turn it off only to call `heartbeat()` yourself). */
    enabled?: boolean;
    /** Default: the interval the coordinator's `heartbeat()` returns. At most 2 147 483 647 (a Node timer's limit). */
    intervalMs?: number;
  };
  watchers?: {
    /**
     * How often `runWatchers()` runs (events, elections) when no push brings it forward. Default 1000;
     * at most 2 147 483 647.
     */
    intervalMs?: number;
  };
  /** Joined at bootstrap (created if missing), left at shutdown. */
  groups?: CoordinationGroupOptions[];
  /**
   * Characteristics the driver must have, e.g. `[Characteristic.DistributedAcrossHosts]`. A driver lacking
   * one fails the bootstrap (module creation) with `DriverChosenPoorlyError`, naming the driver and what it lacks.
   */
  characteristics?: Iterable<Characteristic>;
  /** Passed to `getCoordinator()` as its options (ms durations override the URL's). */
  driverOptions?: CoordinatorOptions;
  shutdown?: {
    /**
     * How long `app.close()` waits, in all, for a heartbeat or watchers run in progress and for running
     * `@Leader`/`@WithLock` calls before it stands down and stops anyway. Default 10 000.
     */
    timeoutMs?: number;
  };
}

/** Options that shape the dynamic module; accepted by both `forRoot()` and `forRootAsync()`. */
export interface CoordinationModuleExtras {
  /** Register the module globally, so any module can inject `Coordinator`. Default true. */
  isGlobal?: boolean;
  /**
   * @deprecated Ignored, with a warning at start-up. The module no longer
   * imports `ScheduleModule.forRoot()`: the heart uses your application's
   * `SchedulerRegistry` when you import `ScheduleModule.forRoot()` (in any
   * order), and timers of its own otherwise. Import `ScheduleModule.forRoot()`
   * yourself for your `@Cron()`, `@Interval()` and `@Timeout()` jobs.
   */
  importScheduleModule?: boolean;
}

/** For `forRootAsync({ useClass })` / `useExisting`. */
export interface CoordinationOptionsFactory {
  createCoordinationOptions(): CoordinationModuleOptions | Promise<CoordinationModuleOptions>;
}
