// `nestjs-coordination/driver`: the surface a driver written outside this
// repository builds on. A driver subclasses `Coordinator` (declaring its
// characteristics) and hands its constructor a `Backend`: the batch-shaped
// port that `docs/drivers.md` walks through, with `MemoryDriver` as the
// worked example. Everything the built-in drivers use is here, nothing more.
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
