import { Inject, Injectable, Logger } from '@nestjs/common';
import { Coordinator } from '../core/coordinator.js';
import { CoordinationError, LockAcquireFailedError } from '../errors.js';
import type { AcquireOptions, Lock } from '../core/lock.js';
import { COORDINATION_LOGGER_CONTEXT } from './coordination.constants.js';
import {
  INVALID_LOCK_NAME,
  LOCK_RELEASE_FAILED,
  NOT_STARTED,
  SHARED_INSTANCE,
  SHUTTING_DOWN_BEFORE_LOCK,
} from './coordination.messages.js';
import { GuardedCalls } from './guarded-calls.js';
import type { LeaderMetadata, WithLockMetadata } from './interfaces/coordination-metadata.interface.js';
import { runWithLock } from './lock-context.js';

type Method = (...args: unknown[]) => unknown;

export interface MethodGuards {
  leader?: LeaderMetadata;
  lock?: WithLockMetadata;
}

/** One call of a `@Leader()`/`@WithLock()` method, as its wrapper hands it over. */
export interface GuardedCall {
  instance: unknown;
  /** The undecorated method. */
  method: Method;
  args: unknown[];
  guards: MethodGuards;
  /** `Class.method`, for messages. */
  where: string;
}

/** Each instance → the runner of the application that owns it; filled by that application's explorer. */
const runners = new WeakMap<object, GuardedMethodRunner>();

/**
 * What the decorators' wrapper calls: run `call` with the coordinator of the
 * application that owns the instance. An instance no running application owns
 * (a call from a constructor, before bootstrap, after shutdown) has no
 * started coordinator: `@Leader()` resolves `undefined` (it leads nothing),
 * `@WithLock()` rejects.
 */
export function callGuarded(call: GuardedCall): Promise<unknown> {
  const { instance } = call;
  const runner = typeof instance === 'object' && instance !== null ? runners.get(instance) : undefined;
  if (runner) return runner.run(call);
  if (call.guards.leader) return Promise.resolve(undefined);
  return Promise.reject(new CoordinationError(NOT_STARTED(call.where)));
}

/** Runs the `@Leader()`/`@WithLock()` calls on one application's instances, with its coordinator. */
@Injectable()
export class GuardedMethodRunner {
  private readonly logger = new Logger(COORDINATION_LOGGER_CONTEXT);
  private readonly bound = new Set<object>();

  constructor(
    @Inject(Coordinator) private readonly coordinator: Coordinator,
    private readonly calls: GuardedCalls,
  ) {}

  /** From now on, the decorated methods of `instance` use this application's coordinator. */
  bind(instance: object, where: string): void {
    const owner = runners.get(instance);
    if (owner === this) return;
    if (owner) throw new CoordinationError(SHARED_INSTANCE(where));
    runners.set(instance, this);
    this.bound.add(instance);
  }

  /** Once the coordinator has stopped: the instances are free for another application. */
  unbindAll(): void {
    for (const instance of this.bound) if (runners.get(instance) === this) runners.delete(instance);
    this.bound.clear();
  }

  run(call: GuardedCall): Promise<unknown> {
    return this.calls.track(this.guarded(call));
  }

  private async guarded(call: GuardedCall): Promise<unknown> {
    const { leader, lock } = call.guards;
    // In memory, no round trip: the heart refreshes leadership at every beat and election.
    if (leader && !this.coordinator.isLeaderOf(leader.groupId)) return undefined;
    if (!lock) return call.method.apply(call.instance, call.args);
    return this.underLock(call, lock);
  }

  private async underLock(
    { instance, method, args, where }: GuardedCall,
    { name, options }: WithLockMetadata,
  ): Promise<unknown> {
    const { onLocked, ...acquireOptions } = options;
    const lockName = typeof name === 'function' ? name.apply(instance, args) : name;
    if (typeof lockName !== 'string' || lockName.length === 0) throw new TypeError(INVALID_LOCK_NAME(where, lockName));
    if (!this.coordinator.isStarted) throw new CoordinationError(NOT_STARTED(where));
    // A handle per call: handles are not re-entrant, so two concurrent calls contend like two members.
    const lock = this.coordinator.getLock(lockName);
    if (!(await this.acquire(lock, acquireOptions, where))) {
      if (onLocked === 'skip') return undefined;
      throw new LockAcquireFailedError(lockName);
    }
    try {
      return await runWithLock(lock, this.calls.waitEnded, async () => method.apply(instance, args));
    } finally {
      await this.release(lock, where);
    }
  }

  /**
   * `lock.acquire()`, withdrawn as soon as the application begins to shut
   * down: a call that holds nothing yet has nothing to finish, and must not
   * keep `app.close()` waiting.
   */
  private async acquire(lock: Lock, options: AcquireOptions, where: string): Promise<boolean> {
    const shuttingDown = this.calls.shuttingDown;
    const acquired = await lock.acquire({ ...options, signal: shuttingDown });
    if (acquired && !shuttingDown.aborted) return true;
    if (!shuttingDown.aborted) return false;
    if (acquired) await this.release(lock, where); // won in the same tick shutdown began
    throw new CoordinationError(SHUTTING_DOWN_BEFORE_LOCK(where, lock.name));
  }

  private async release(lock: Lock, where: string): Promise<void> {
    await lock.release().catch((error: unknown) => this.logger.warn(LOCK_RELEASE_FAILED(lock.name, where, error)));
  }
}
