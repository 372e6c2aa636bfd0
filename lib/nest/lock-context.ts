import { AsyncLocalStorage } from 'node:async_hooks';
import type { Lock } from '../core/lock.js';

interface LockContext {
  readonly lock: Lock;
  readonly signal: AbortSignal;
}

const storage = new AsyncLocalStorage<LockContext>();

/**
 * The `AbortSignal` of the `@WithLock()` call running now (in the method and
 * everything it awaits), or `undefined` outside one. It aborts when the hold
 * ends before the call does: the lock expired or was broken (the coordinator's
 * `events$` then also emits `LockLost`), or the application's shutdown gave
 * up waiting for the call. In nested `@WithLock()` calls it aborts when any of
 * the enclosing holds is lost.
 */
export function currentLockSignal(): AbortSignal | undefined {
  return storage.getStore()?.signal;
}

/** The `Lock` held by the `@WithLock()` call running now (innermost), e.g. for its `fencingToken`. */
export function currentLock(): Lock | undefined {
  return storage.getStore()?.lock;
}

/** Run `work` with `lock` as the current hold; its signal also follows the enclosing hold and `shutdown`. */
export function runWithLock<T>(lock: Lock, shutdown: AbortSignal, work: () => T): T {
  const signals = [lock.signal, shutdown, storage.getStore()?.signal].filter((s): s is AbortSignal => s != null);
  return storage.run({ lock, signal: AbortSignal.any(signals) }, work);
}
