import { Inject, Injectable, Logger } from '@nestjs/common';
import { Coordinator } from '../core/coordinator.js';
import { CoordinationError, LockAcquireFailedError } from '../core/errors.js';
import { COORDINATION_LOGGER_CONTEXT } from './coordination.constants.js';
import { HANDLER_FAILED, INVALID_LOCK_NAME, LOCK_RELEASE_FAILED, SHARED_INSTANCE } from './coordination.messages.js';
import { GuardedCalls } from './guarded-calls.js';
import type { LeaderMetadata, WithLockMetadata } from './interfaces/coordination-metadata.interface.js';
import { runWithLock } from './lock-context.js';

type Method = (...args: unknown[]) => unknown;

/** Marks a method we installed on an instance, with the coordinator it is bound to. */
const GUARDED_BY = Symbol('coordination:guarded-by');

export interface MethodGuards {
  leader?: LeaderMetadata;
  lock?: WithLockMetadata;
}

/**
 * Builds the per-instance wrappers the explorer installs: the decorators only
 * record metadata, and the wrapper binds a method to the coordinator of the
 * application that owns the instance.
 */
@Injectable()
export class GuardedMethodFactory {
  private readonly logger = new Logger(COORDINATION_LOGGER_CONTEXT);

  constructor(
    @Inject(Coordinator) private readonly coordinator: Coordinator,
    private readonly calls: GuardedCalls,
  ) {}

  /**
   * Replace `instance[key]` (an own property; the prototype stays untouched
   * for other applications) with the guarded method. Every reflect-metadata
   * entry of the original is copied, so `@nestjs/schedule`, which reads
   * `instance[key]` afterwards, still finds its `@Cron()`/`@Interval()`.
   */
  install(instance: object, key: string, guards: MethodGuards, where: string): void {
    const original = (instance as Record<string, unknown>)[key] as Method & { [GUARDED_BY]?: Coordinator };
    if (Object.hasOwn(instance, key) && original[GUARDED_BY]) {
      if (original[GUARDED_BY] === this.coordinator) return;
      throw new CoordinationError(SHARED_INSTANCE(where));
    }
    let method: Method = original;
    if (guards.lock) method = this.lockGuard(method, guards.lock, where);
    if (guards.leader) method = this.leaderGuard(method, guards.leader);
    const calls = this.calls;
    const inner = method;
    const guarded = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      return calls.track(callAsync(inner, this ?? instance, args));
    };
    for (const metadataKey of Reflect.getOwnMetadataKeys(original)) {
      Reflect.defineMetadata(metadataKey, Reflect.getOwnMetadata(metadataKey, original), guarded);
    }
    Object.defineProperty(guarded, 'name', { value: original.name });
    Object.defineProperty(guarded, GUARDED_BY, { value: this.coordinator });
    Object.defineProperty(instance, key, { value: guarded, writable: true, configurable: true, enumerable: false });
  }

  /** A watch callback calling `instance[key]`; a throw is logged with the handler's name, never propagated. */
  handler(instance: object, key: string, decorator: string, where: string): (event: unknown) => Promise<unknown> {
    return async (event) => {
      try {
        return await (instance as Record<string, Method>)[key].call(instance, event);
      } catch (error) {
        this.logger.error(HANDLER_FAILED(decorator, where, error), error instanceof Error ? error.stack : undefined);
        return undefined;
      }
    };
  }

  private leaderGuard(method: Method, { groupId }: LeaderMetadata): Method {
    const coordinator = this.coordinator;
    return function (this: unknown, ...args: unknown[]) {
      // In memory, no round trip: the heart refreshes leadership at every beat and election.
      if (!coordinator.isLeaderOf(groupId)) return Promise.resolve(undefined);
      return callAsync(method, this, args);
    };
  }

  private lockGuard(method: Method, { name, options }: WithLockMetadata, where: string): Method {
    const { coordinator, calls, logger } = this;
    const { onLocked, ...acquireOptions } = options;
    return async function (this: unknown, ...args: unknown[]) {
      const lockName = typeof name === 'function' ? name.apply(this, args) : name;
      if (typeof lockName !== 'string' || lockName.length === 0)
        throw new TypeError(INVALID_LOCK_NAME(where, lockName));
      // A handle per call: handles are not re-entrant, so two concurrent calls contend like two members.
      const lock = coordinator.getLock(lockName);
      if (!(await lock.acquire(acquireOptions))) {
        if (onLocked === 'skip') return undefined;
        throw new LockAcquireFailedError(lockName);
      }
      try {
        return await runWithLock(lock, calls.shutdownSignal, () => method.apply(this, args));
      } finally {
        await lock.release().catch((error: unknown) => logger.warn(LOCK_RELEASE_FAILED(lockName, where, error)));
      }
    };
  }
}

/** Call `method`, turning a synchronous throw into a rejection. */
function callAsync(method: Method, self: unknown, args: unknown[]): Promise<unknown> {
  try {
    return Promise.resolve(method.apply(self, args));
  } catch (error) {
    return Promise.reject(error);
  }
}
