/** Metadata keys the decorators write and the accessor reads (on the method function, as @nestjs/schedule does). */
export const COORDINATION_LEADER = 'coordination:leader';
export const COORDINATION_WITH_LOCK = 'coordination:with-lock';
export const COORDINATION_GROUP_EVENTS = 'coordination:group-events';
/** The key `@Cron()`, `@Interval()` and `@Timeout()` write (`@nestjs/schedule` does not export it). */
export const SCHEDULE_TYPE_METADATA = 'SCHEDULER_TYPE';

/**
 * Names of the heart's jobs, listed as intervals in the application's
 * `SchedulerRegistry` when it imports `ScheduleModule.forRoot()`.
 */
export const COORDINATION_HEARTBEAT_JOB = 'coordination:heartbeat';
export const COORDINATION_WATCHERS_JOB = 'coordination:watchers';

/** The deprecated `importScheduleModule` extra, provided only when given, so bootstrap can warn that it is ignored. */
export const IMPORT_SCHEDULE_MODULE_OPTION = Symbol('IMPORT_SCHEDULE_MODULE_OPTION');

/** The options after defaults and validation (internal). */
export const RESOLVED_COORDINATION_OPTIONS = Symbol('RESOLVED_COORDINATION_OPTIONS');

export const DEFAULT_URL = 'memory://';
export const DEFAULT_WATCHERS_INTERVAL_MS = 1000;
/**
 * How soon after a backend push (members changed, a leader gone) the watchers
 * run: pushes within this window make one run.
 */
export const PUSH_DEBOUNCE_MS = 5;
/** How long `app.close()` waits for guarded calls still running before it releases their locks anyway. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** The longest delay a Node timer holds (the core's limit); a longer one fires after 1 ms. */
export { MAX_TIMER_MS } from '../core/timeout.js';

/** The Nest logger context of everything this module logs. */
export const COORDINATION_LOGGER_CONTEXT = 'Coordination';
