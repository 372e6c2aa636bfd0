import { performance } from 'node:perf_hooks';
import type { Backend, Grant, HoldRef, WaiterState, Waiting } from './backend.js';
import { timerDelay } from './timeout.js';

/** A grant as the core counts it: the lease runs from `since`, taken before the request. */
export interface CountedGrant {
  grant: Grant;
  since: number;
}

export const isGrant = (answer: Grant | Waiting | WaiterState | null): answer is Grant =>
  answer !== null && typeof answer === 'object' && 'fence' in answer;

interface Waiter {
  ref: HoldRef;
  settle(grant: CountedGrant): void;
  /** The backend answered that it queued: only then may a "lapsed" answer queue it again. */
  queued: boolean;
  /** When to look again at the latest (performance.now()). */
  recheckAt: number;
}

/** What the waiters need from the coordinator. */
export interface LockWaitersHost {
  readonly backend: Backend;
  /** Count a backend call in flight, so `stop()` lets it finish. */
  track<T>(work: Promise<T>): Promise<T>;
  /** A grant nobody waits for any more: let it go at the next beat. */
  unclaimed(ref: HoldRef): void;
}

/**
 * Who waits for a lock, for every driver: each queued request with the time
 * of its next look. A push ("these may have been granted") and every look due
 * go to the backend as one `look()` per tick; one timer serves the earliest
 * recheck (a grant nobody pushed: a holder that died). A waiter whose place
 * lapsed is queued again here, at the back, counted in flight like any call.
 */
export class LockWaiters {
  private readonly waiters = new Map<string, Waiter>();
  /** Holders to look at on the next tick. */
  private readonly pending = new Set<string>();
  private lookScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** Keeps the process alive while an acquire waits (a pending promise alone does not). */
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(private readonly host: LockWaitersHost) {}

  /** Register a wait before the request goes out, so a push before its answer finds its waiter. */
  expect(ref: HoldRef, settle: (grant: CountedGrant) => void): void {
    this.waiters.set(ref.holder, { ref, settle, queued: false, recheckAt: Infinity });
    this.keepAlive ??= setInterval(() => undefined, 1 << 30);
  }

  /** The backend queued `holder`: look again within `waiting.recheckMs`, at most `waiterRecheckMs`. */
  queued(holder: string, waiting: Waiting): void {
    const waiter = this.waiters.get(holder);
    if (!waiter) return;
    waiter.queued = true;
    this.recheck(waiter, waiting.recheckMs);
  }

  stop(holder: string): void {
    this.waiters.delete(holder);
    this.pending.delete(holder);
    if (this.waiters.size > 0) return;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    this.arm(Infinity);
  }

  /** Every waiter's request, for a beat or for `disconnect()`. */
  refs(): HoldRef[] {
    return [...this.waiters.values()].map((waiter) => waiter.ref);
  }

  /** A push: these (every waiter when omitted) may have been granted; one look on the next tick. */
  mayBeGranted(holders?: readonly string[]): void {
    for (const holder of holders ?? this.waiters.keys()) if (this.waiters.has(holder)) this.pending.add(holder);
    if (this.pending.size === 0 || this.lookScheduled) return;
    this.lookScheduled = true;
    setImmediate(() => void this.look());
  }

  /** Answers about `refs` from a look or a beat whose request left at `since`. */
  answered(refs: readonly HoldRef[], answers: ReadonlyMap<string, WaiterState>, since: number): void {
    for (const ref of refs) {
      const state = answers.get(ref.holder);
      const waiter = this.waiters.get(ref.holder);
      if (state === undefined) continue;
      if (isGrant(state)) this.granted(ref, state, since);
      else if (!waiter) continue;
      else if (state === 'lapsed') {
        if (waiter.queued) void this.requeue(waiter);
      } else this.recheck(waiter, state.recheckMs);
    }
  }

  /** Forget every waiter (the session ends); each is left to its own abort. */
  clear(): void {
    for (const holder of [...this.waiters.keys()]) this.stop(holder);
  }

  /** A grant nobody waits for any more (withdrawn meanwhile) is let go. */
  private granted(ref: HoldRef, grant: Grant, since: number): void {
    const waiter = this.waiters.get(ref.holder);
    if (!waiter) return this.host.unclaimed(ref);
    this.stop(ref.holder);
    waiter.settle({ grant, since });
  }

  private async look(): Promise<void> {
    this.lookScheduled = false;
    const refs = [...this.pending].flatMap((holder) => this.waiters.get(holder)?.ref ?? []);
    this.pending.clear();
    if (refs.length === 0) return;
    // Due again meanwhile, so a failed look is retried by the timer (and the next beat).
    for (const ref of refs) this.recheck(this.waiters.get(ref.holder)!, undefined);
    const since = performance.now();
    let answers: Map<string, WaiterState>;
    try {
      answers = await this.host.track(this.host.backend.look(refs));
    } catch {
      return;
    }
    this.answered(refs, answers, since);
  }

  /** Its place lapsed (a grant it never confirmed, a dropped connection): queue again, at the back. */
  private async requeue(waiter: Waiter): Promise<void> {
    waiter.queued = false;
    const { ref } = waiter;
    const since = performance.now();
    try {
      const answer = await this.host.track(this.host.backend.acquire({ ...ref, wait: true }));
      if (isGrant(answer)) this.granted(ref, answer, since);
      else if (answer !== null) this.queued(ref.holder, answer);
    } catch {
      // Still a waiter: the next look says lapsed again, and it is tried again.
      waiter.queued = true;
      this.recheck(waiter, undefined);
    }
  }

  private recheck(waiter: Waiter, recheckMs: number | undefined): void {
    const limit = this.host.backend.waiterRecheckMs;
    waiter.recheckAt = performance.now() + Math.min(recheckMs ?? limit, limit);
    if (waiter.recheckAt < this.timerAt) this.arm(waiter.recheckAt);
  }

  /**
   * Look at every waiter that is due, and those due within half a recheck
   * (so many waiters share one call and stay in step), then wait for the next.
   */
  private due(): void {
    const now = performance.now();
    const soon = now + this.host.backend.waiterRecheckMs / 2;
    let next = Infinity;
    const due: string[] = [];
    for (const [holder, waiter] of this.waiters) {
      if (waiter.recheckAt <= soon) due.push(holder);
      else next = Math.min(next, waiter.recheckAt);
    }
    this.arm(next);
    if (due.length > 0) this.mayBeGranted(due);
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    // A long delay is clamped; firing early just finds nothing due and re-arms.
    this.timer = setTimeout(() => this.due(), timerDelay(at - performance.now() + 1));
    this.timer.unref();
  }
}
