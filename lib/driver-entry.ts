// `nestjs-coordination/driver`: the surface a driver written outside this
// repository builds on. A driver is a `Backend` (the batch-shaped port that
// `docs/drivers.md` walks through, with `MemoryDriver` as the worked
// example, characteristics included) and nothing else: its registered
// factory returns `coordinatorFor(backend, memberId, options)`. Everything
// the built-in drivers use is here, nothing more.
export * from './core-entry.js';
export type {
  Backend,
  BackendEvents,
  BeatReport,
  BeatRequest,
  Grant,
  HoldRef,
  LockRequest,
  SessionSnapshot,
  Waiting,
  WaiterState,
} from './core/backend.js';
export { type CallContext, translateBackendError } from './core/backend-errors.js';
export { ReadOnlySet } from './core/characteristic.js';
export { CoordinatorLifecycle } from './core/coordinator-lifecycle.js';
export {
  assertKnownCodeOptions,
  assertKnownOptions,
  durationOption,
  queryOptions,
  redactSecrets,
  redactUrl,
} from './core/url-options.js';
export { MAX_TIMER_MS, timerDelay } from './core/timeout.js';
export { MemoryDriver } from './drivers/memory/memory-driver.js';
export { MemoryStore } from './drivers/memory/memory-store.js';
