import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Backend, HoldRef } from './backend.js';
import { LockAcquireFailedError } from '../errors.js';
import { type CountedGrant, isGrant, type LockWaiters } from './lock-waiters.js';
import type { Operations } from './operations.js';
import type { Session } from './session.js';
import { MAX_TIMER_MS } from './timeout.js';

export interface AcquireOptions {
  /** `false` tries once; `true` (default) waits until acquired or `timeoutMs` passes. */
  blocking?: boolean;
  /** Take a shared (reader) hold; many shared holders together, none beside an exclusive one. */
  shared?: boolean;
  /** With `blocking`, give up (resolve `false`) after this many ms; forever when omitted (or ~24.8 days and more). */
  timeoutMs?: number;
  /** With `blocking`, give up (resolve `false`) when this aborts; the place in the queue is withdrawn. */
  signal?: AbortSignal;
}

/**
 * The owners a lock works with, handed over by the coordinator that made it:
 * the state of each lives in its owner, none is copied here.
 * @internal
 */
export interface LockParts {
  readonly backend: Backend;
  /** This member's holds (their leases and their loss). */
  readonly session: Session;
  /** Who waits for a lock, and their grants. */
  readonly waiters: LockWaiters;
  /** The coordinator's state and its operation wrapper. */
  readonly operations: Operations;
  /** The current stop's signal (a new one each start): aborted when the coordinator stops. */
  readonly stopSignal: () => AbortSignal;
  /** Tell the coordinator's `events$` a hold was lost. */
  readonly lockLost: (lock: Lock) => void;
}

/**
 * A handle on the distributed lock `name`. The life of a hold — not
 * re-entrant, waiting in the queue, the lease and its loss, the fencing
 * token — is written here once, on the driver port (`Backend`).
 */
export class Lock {
  /** Set by each successful acquire: greater than every token issued before for this name. */
  fencingToken: bigint | null = null;
  /** Unique per handle: two handles on one name exclude each other. */
  readonly #handle = randomUUID();
  /**
   * Each acquisition gets a holder id of its own (`<handle>.<n>`), so a
   * stale "let go" of an earlier hold can never match a newer one.
   */
  #acquisitions = 0;
  /** `releasing` from the moment `release()` is called: the backend may free it before we hear back. */
  #hold: { ref: HoldRef; controller: AbortController; releasing: boolean } | null = null;
  #acquiring = false;

  /** @internal Made by `Coordinator.getLock()`. */
  constructor(
    readonly name: string,
    private readonly parts: LockParts,
  ) {}

  /** Whether this handle believes it holds the lock (no round trip; see `isStillOwner()`). */
  get isHeld(): boolean {
    return this.#hold !== null && !this.#hold.releasing;
  }

  /** Aborted when the current hold is lost without `release()`; null while nothing is held. */
  get signal(): AbortSignal | null {
    return this.#hold && !this.#hold.releasing ? this.#hold.controller.signal : null;
  }

  acquire(options: AcquireOptions = {}): Promise<boolean> {
    const { blocking = true, shared = false, timeoutMs, signal } = options;
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
      throw new TypeError(`timeoutMs for lock ${this.name} must be a number >= 0, got ${String(timeoutMs)}`);
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`signal for lock ${this.name} must be an AbortSignal`);
    }
    const boundedMs = timeoutMs !== undefined && timeoutMs < MAX_TIMER_MS ? timeoutMs : undefined;
    const ref: HoldRef = {
      name: this.name,
      holder: `${this.#handle}.${++this.#acquisitions}`,
      shared: Boolean(shared),
    };
    return this.parts.operations.run(`acquire lock ${this.name}`, this.context, () =>
      this.#acquire(ref, Boolean(blocking) && boundedMs !== 0, boundedMs, signal),
    );
  }

  async #acquire(ref: HoldRef, wait: boolean, timeoutMs: number | undefined, signal?: AbortSignal): Promise<boolean> {
    // Not re-entrant: the handle that holds (or is already waiting) gets false at once.
    if (this.#hold || this.#acquiring || signal?.aborted) return false;
    this.#acquiring = true;
    try {
      const counted = wait ? await this.#wait(ref, timeoutMs, signal) : await this.#try(ref);
      if (counted === null) return false;
      if (!this.parts.operations.accepting) {
        await this.parts.operations
          .call('release', this.context, () => this.parts.backend.release(ref))
          .catch(() => false);
        return false;
      }
      this.fencingToken = counted.grant.fence;
      this.#hold = { ref, controller: new AbortController(), releasing: false };
      this.parts.session.holdStarted(ref, counted, (lost) => this.#end(lost));
      return true;
    } finally {
      this.#acquiring = false;
    }
  }

  async #try(ref: HoldRef): Promise<CountedGrant | null> {
    const since = performance.now();
    let outcome: Awaited<ReturnType<Backend['acquire']>>;
    try {
      outcome = await this.parts.backend.acquire({ ...ref, wait: false });
    } catch (error) {
      // Cut half way: the backend may have granted it. Believed by nobody, it is let go by the next beat.
      this.parts.session.abandon(ref);
      throw error;
    }
    return isGrant(outcome) ? { grant: outcome, since } : null;
  }

  /**
   * Queue in the backend and wait for the grant, a timeout, the caller's
   * signal or the coordinator's stop. Listeners are removed in `finally`
   * (`AbortSignal.any` leaks on Node 20).
   */
  async #wait(ref: HoldRef, timeoutMs: number | undefined, signal?: AbortSignal): Promise<CountedGrant | null> {
    const { session, waiters, backend } = this.parts;
    const stopSignal = this.parts.stopSignal();
    let settle!: (grant: CountedGrant | null) => void;
    const outcome = new Promise<CountedGrant | null>((resolve) => (settle = resolve));
    const giveUp = () => settle(null);
    waiters.expect(ref, settle);
    const timer = timeoutMs === undefined ? undefined : setTimeout(giveUp, timeoutMs);
    stopSignal.addEventListener('abort', giveUp);
    signal?.addEventListener('abort', giveUp);
    try {
      if (stopSignal.aborted) return null;
      const since = performance.now();
      const answer = await backend.acquire({ ...ref, wait: true });
      if (answer === null) return null;
      if (isGrant(answer)) return { grant: answer, since };
      waiters.queued(ref.holder, answer);
      const counted = await outcome;
      if (counted === null) await this.#withdraw(ref);
      return counted;
    } catch (error) {
      await this.#withdraw(ref);
      session.abandon(ref); // it may have been granted outright: the next beat lets it go too
      throw error;
    } finally {
      waiters.stop(ref.holder);
      clearTimeout(timer);
      stopSignal.removeEventListener('abort', giveUp);
      signal?.removeEventListener('abort', giveUp);
    }
  }

  /** Leave the queue; a grant that raced the withdrawal is handed back (or at the next beat). */
  async #withdraw(ref: HoldRef): Promise<void> {
    const { backend, session, waiters } = this.parts;
    waiters.stop(ref.holder);
    try {
      const raced = await backend.withdraw(ref);
      if (raced && !(await backend.release(ref))) session.abandon(ref);
    } catch {
      session.abandon(ref); // the next beat lets it go
    }
  }

  async release(): Promise<boolean> {
    const hold = this.#hold;
    if (!hold || hold.releasing) return false;
    // Believed no more from now: the backend may hand it to another before its answer reaches us.
    hold.releasing = true;
    let released: boolean;
    try {
      released = await this.parts.operations.call(`release lock ${this.name}`, this.context, () =>
        this.parts.backend.release(hold.ref),
      );
    } catch (error) {
      // The outcome is unknown: the backend may have released it and granted it to another. The hold
      // ends here at once (LockLost) and the next beat lets it go, in case it was not (docs/semantics.md).
      if (this.#hold === hold) {
        this.parts.session.abandon(hold.ref);
        this.#end(true);
      }
      throw error;
    }
    // Released, or found already gone: either way this handle holds nothing now.
    if (this.#hold === hold) this.#end(!released);
    return released;
  }

  /** Extend the hold's lease; false if it was lost. */
  async heartbeat(): Promise<boolean> {
    const hold = this.#hold;
    if (!hold || hold.releasing) return false;
    const { backend, session } = this.parts;
    const since = performance.now();
    const report = await this.parts.operations.call(`heartbeat lock ${this.name}`, this.context, () =>
      backend.beat({
        groups: new Map(),
        holds: [hold.ref],
        waiters: [],
        leaderships: [],
        liveness: false,
        abandonedHolds: [],
        abandonedLeaderships: [],
      }),
    );
    if (this.#hold !== hold) return false;
    if (report.lostHolds.includes(hold.ref.holder)) {
      session.loseHold(hold.ref.holder);
      return false;
    }
    session.holdRefreshed(hold.ref.holder, since, backend.leaseMs);
    return true;
  }

  async isStillOwner(): Promise<boolean> {
    const hold = this.#hold;
    if (!hold || hold.releasing) return false;
    if (!this.parts.session.holdLive(hold.ref.holder)) {
      this.parts.session.loseHold(hold.ref.holder);
      return false;
    }
    const owner = await this.parts.operations.call(`check lock ${this.name}`, this.context, () =>
      this.parts.backend.isHeld(hold.ref),
    );
    if (!owner && this.#hold === hold) this.parts.session.loseHold(hold.ref.holder);
    return owner;
  }

  /** Forcibly release whoever holds the lock; true if someone did. */
  break(): Promise<boolean> {
    return this.parts.operations.run(`break lock ${this.name}`, this.context, async () => {
      const broken = await this.parts.backend.breakLock(this.name);
      if (broken && this.#hold) this.parts.session.loseHold(this.#hold.ref.holder);
      return broken;
    });
  }

  /** Acquire, run `fn`, release in `finally`; `LockAcquireFailedError` when not acquired. */
  async withLock<T>(fn: (signal: AbortSignal) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    if (!(await this.acquire(options))) throw new LockAcquireFailedError(this.name);
    try {
      return await fn(this.signal!);
    } finally {
      await this.release();
    }
  }

  private get context(): { lockName: string } {
    return { lockName: this.name };
  }

  /** The hold ended: forget it, and when it was lost, say so and abort its signal. */
  #end(lost: boolean): void {
    const hold = this.#hold;
    if (!hold) return;
    this.#hold = null;
    this.parts.session.holdEnded(hold.ref.holder);
    if (lost) {
      this.parts.lockLost(this);
      hold.controller.abort(new Error(`Lock ${this.name} was lost`));
    }
  }
}
