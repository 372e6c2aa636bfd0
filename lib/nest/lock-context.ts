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

/**
 * Run `work` with `lock` as the current hold; its signal also follows the
 * enclosing hold and `shutdown`. The signals are linked by listeners removed
 * when `work` settles: `AbortSignal.any` leaks a registration on a long-lived
 * signal (the shutdown one) per call on Node 20.
 */
export async function runWithLock<T>(lock: Lock, shutdown: AbortSignal, work: () => Promise<T>): Promise<T> {
  const sources = [lock.signal, shutdown, storage.getStore()?.signal].filter((s): s is AbortSignal => s != null);
  const linked = new AbortController();
  const follow = (source: AbortSignal) => () => linked.abort(source.reason);
  const listeners = sources.map((source) => [source, follow(source)] as const);
  for (const [source, listener] of listeners) {
    if (source.aborted) linked.abort(source.reason);
    else source.addEventListener('abort', listener, { once: true });
  }
  try {
    return await storage.run({ lock, signal: linked.signal }, work);
  } finally {
    for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
  }
}
