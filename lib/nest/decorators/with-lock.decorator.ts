import { SetMetadata } from '@nestjs/common';
import { COORDINATION_WITH_LOCK } from '../coordination.constants.js';
import { INVALID_DECORATOR_ARGUMENT } from '../coordination.messages.js';
import type {
  LockNameFactory,
  WithLockMetadata,
  WithLockOptions,
} from '../interfaces/coordination-metadata.interface.js';
import { guardMethod } from './guarded-method.js';
import { assertInstanceMethod, assertNotYetDecorated, assertTimerMs } from './method-target.js';

/**
 * Hold the distributed lock `name` for the whole call: acquired before the
 * method runs, released when it returns or throws. The module's heart keeps
 * the hold alive (each beat refreshes every held lock), so a call may outlast
 * the driver's `lock_timeout`.
 *
 * `name` is a string, or a function of the call's arguments returning one.
 * When the lock cannot be had (`blocking: false`, or `timeoutMs` passed),
 * `onLocked: 'throw'` (default) raises `LockAcquireFailedError` and `'skip'`
 * resolves to `undefined` without running the method. Once the application
 * begins to shut down, a call still waiting for its lock (or made from then
 * on) gives up and rejects with a `CoordinationError`; one made before the
 * application has bootstrapped rejects too (the coordinator is not started).
 *
 * **Finding out that the hold was lost.** Inside the call (and anything it
 * awaits), `currentLockSignal()` returns an `AbortSignal` that aborts if the
 * hold ends before the call does — it expired, was broken, or the
 * application is shutting down past `shutdown.timeoutMs` — and
 * `currentLock()` returns the `Lock` (for its `fencingToken`). The
 * coordinator's `events$` also emits `LockLost`.
 *
 * @example
 * ```ts
 * @WithLock((id: string) => `invoice:${id}`, { timeoutMs: 5000 })
 * async settle(id: string) {
 *   const signal = currentLockSignal()!;
 *   await this.payments.charge(id, { signal });
 * }
 * ```
 */
export function WithLock(name: string | LockNameFactory, options: WithLockOptions = {}): MethodDecorator {
  const metadata = withLockMetadata(name, options);
  return (target, key, descriptor) => {
    assertInstanceMethod('@WithLock()', target, key, descriptor);
    assertNotYetDecorated('@WithLock()', COORDINATION_WITH_LOCK, target, key, descriptor.value);
    guardMethod(target, key, descriptor, { lock: metadata });
    SetMetadata<string, WithLockMetadata>(COORDINATION_WITH_LOCK, metadata)(target, key, descriptor);
    return descriptor;
  };
}

function withLockMetadata(name: unknown, options: WithLockOptions): WithLockMetadata {
  const decorator = '@WithLock()';
  if (!((typeof name === 'string' && name.length > 0) || typeof name === 'function')) {
    throw new TypeError(INVALID_DECORATOR_ARGUMENT(decorator, 'name', 'a non-empty string or a function', name));
  }
  const { blocking = true, timeoutMs, shared = false, onLocked = 'throw' } = options ?? {};
  if (typeof blocking !== 'boolean')
    throw new TypeError(INVALID_DECORATOR_ARGUMENT(decorator, 'blocking', 'a boolean', blocking));
  if (typeof shared !== 'boolean')
    throw new TypeError(INVALID_DECORATOR_ARGUMENT(decorator, 'shared', 'a boolean', shared));
  assertTimerMs(decorator, 'timeoutMs', timeoutMs);
  if (onLocked !== 'throw' && onLocked !== 'skip') {
    throw new TypeError(INVALID_DECORATOR_ARGUMENT(decorator, 'onLocked', "'throw' or 'skip'", onLocked));
  }
  return { name: name as string | LockNameFactory, options: { blocking, timeoutMs, shared, onLocked } };
}
