import { performance } from 'node:perf_hooks';
import type { BeatRequest, HoldRef, SessionSnapshot } from './backend.js';
import type { CountedGrant, LockWaiters } from './lock-waiters.js';
import { timerDelay } from './timeout.js';

interface Held {
  ref: HoldRef;
  deadline: number;
  /** Tell the handle its hold ended: `lost` when without `release()`. */
  end(lost: boolean): void;
}

/** What the session reports back to the coordinator. */
export interface SessionListener {
  leadershipLost(groupId: string): void;
}

/**
 * This member's state, kept by the core for every driver: joined groups with
 * their encoded capabilities (groups it was evicted from included, so it can
 * rejoin them), held locks and leaderships, each with the local end of its
 * lease. Queued waiters are `LockWaiters`' (lock-waiters.ts).
 *
 * One timer serves every deadline: when a lease ends without a successful
 * refresh, the hold or leadership is declared lost here, with no round trip,
 * and handed to the next beat to let go of in the backend.
 */
export class Session {
  readonly groups = new Map<string, Uint8Array>();
  private readonly holds = new Map<string, Held>();
  private readonly leaderships = new Map<string, number>();
  private abandonedHolds: HoldRef[] = [];
  private abandonedLeaderships: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(
    private readonly listener: SessionListener,
    private readonly waiters: Pick<LockWaiters, 'refs' | 'clear'>,
  ) {}

  // ---- Holds ---------------------------------------------------------------------

  holdStarted(ref: HoldRef, counted: CountedGrant, end: (lost: boolean) => void): void {
    const deadline = counted.grant.leaseMs === undefined ? Infinity : counted.since + counted.grant.leaseMs;
    this.holds.set(ref.holder, { ref, deadline, end });
    this.scheduleAt(deadline);
  }

  /** The hold ended (released, or found gone): forget it. */
  holdEnded(holder: string): void {
    this.holds.delete(holder);
  }

  /** Whether `holder`'s lease is still running by the local clock. */
  holdLive(holder: string): boolean {
    const held = this.holds.get(holder);
    return held !== undefined && held.deadline > performance.now();
  }

  /** The hold is gone in the backend (a beat, a push or a lost connection said so). */
  loseHold(holder: string): void {
    const held = this.holds.get(holder);
    if (!held) return;
    this.holds.delete(holder);
    held.end(true);
  }

  /** A grant nobody waits for any more: let it go at the next beat, unless it is held now. */
  unclaimed(ref: HoldRef): void {
    if (!this.holds.has(ref.holder)) this.abandonedHolds.push(ref);
  }

  /** Let go of `ref` in the backend at the next beat (a grant that came too late, say). */
  abandon(ref: HoldRef): void {
    this.abandonedHolds.push(ref);
  }

  // ---- Leaderships --------------------------------------------------------------

  leads(groupId: string): boolean {
    const deadline = this.leaderships.get(groupId);
    if (deadline === undefined) return false;
    if (deadline > performance.now()) return true;
    this.expire();
    return false;
  }

  leadershipGroups(): string[] {
    return [...this.leaderships.keys()];
  }

  /** Won or kept at `since` (taken before the request) for `leaseMs`. */
  leadershipRenewed(groupId: string, since: number, leaseMs: number | undefined): void {
    // Won again after a local loss: the pending "let go" of the old one must not give up the new one.
    this.abandonedLeaderships = this.abandonedLeaderships.filter((pending) => pending !== groupId);
    const deadline = leaseMs === undefined ? Infinity : since + leaseMs;
    this.leaderships.set(groupId, deadline);
    this.scheduleAt(deadline);
  }

  /** Give up `groupId` in the backend at the next beat (an election whose answer was lost, say). */
  abandonLeadership(groupId: string): void {
    if (!this.abandonedLeaderships.includes(groupId)) this.abandonedLeaderships.push(groupId);
  }

  /** End leadership locally; true (and the listener told) if it was held. */
  loseLeadership(groupId: string): boolean {
    if (!this.leaderships.delete(groupId)) return false;
    this.listener.leadershipLost(groupId);
    return true;
  }

  // ---- Beats -----------------------------------------------------------------

  snapshot(): SessionSnapshot {
    return {
      groups: new Map(this.groups),
      holds: [...this.holds.values()].map((held) => held.ref),
      waiters: this.waiters.refs(),
      leaderships: this.leadershipGroups(),
    };
  }

  /** A full beat: everything held, plus what was given up locally since the last one (handed over once). */
  beatRequest(): BeatRequest {
    this.expire();
    const request = {
      ...this.snapshot(),
      liveness: true,
      abandonedHolds: this.abandonedHolds,
      abandonedLeaderships: this.abandonedLeaderships,
    };
    this.abandonedHolds = [];
    this.abandonedLeaderships = [];
    return request;
  }

  /** A beat failed: what it was to let go of is tried again next time. */
  beatFailed(request: BeatRequest): void {
    this.abandonedHolds.push(...request.abandonedHolds);
    this.abandonedLeaderships.push(...request.abandonedLeaderships);
  }

  /** A beat that started at `since` refreshed these holds and leaderships for `leaseMs`. */
  refreshed(request: BeatRequest, since: number, leaseMs: number | undefined): void {
    const deadline = leaseMs === undefined ? Infinity : since + leaseMs;
    for (const ref of request.holds) {
      const held = this.holds.get(ref.holder);
      if (held && held.ref === ref) held.deadline = deadline;
    }
    for (const groupId of request.leaderships) {
      if (this.leaderships.has(groupId)) this.leaderships.set(groupId, deadline);
    }
    this.scheduleAt(deadline);
  }

  /** Refresh one hold's deadline (`Lock.heartbeat()`). */
  holdRefreshed(holder: string, since: number, leaseMs: number | undefined): void {
    const held = this.holds.get(holder);
    if (!held) return;
    held.deadline = leaseMs === undefined ? Infinity : since + leaseMs;
    this.scheduleAt(held.deadline);
  }

  // ---- The deadline timer ----------------------------------------------------

  /** Declare lost every hold and leadership whose lease ended, then wait for the next deadline. */
  private expire(): void {
    const now = performance.now();
    let next = Infinity;
    for (const [holder, held] of this.holds) {
      if (held.deadline <= now) {
        this.abandonedHolds.push(held.ref);
        this.loseHold(holder);
      } else next = Math.min(next, held.deadline);
    }
    for (const [groupId, deadline] of this.leaderships) {
      if (deadline <= now) {
        this.abandonedLeaderships.push(groupId);
        this.loseLeadership(groupId);
      } else next = Math.min(next, deadline);
    }
    this.arm(next);
  }

  /** Make sure the timer fires no later than `deadline`. */
  private scheduleAt(deadline: number): void {
    if (deadline < this.timerAt) this.arm(deadline);
  }

  private arm(deadline: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = deadline;
    if (deadline === Infinity) return;
    // A long delay is clamped; firing early just finds nothing due and re-arms.
    this.timer = setTimeout(() => this.expire(), timerDelay(deadline - performance.now() + 1));
    this.timer.unref();
  }

  // ---- End of the session ------------------------------------------------------

  /**
   * End every hold: as lost (`LockLost`), or as released by a successful
   * stop. With `abandon` (a lost connection), the next beat also lets each go
   * in the backend, where it may outlive the connection until its lease ends.
   */
  endHolds(lost: boolean, abandon = false): void {
    const holds = [...this.holds.values()];
    this.holds.clear();
    if (abandon) this.abandonedHolds.push(...holds.map((held) => held.ref));
    for (const held of holds) held.end(lost);
  }

  /** End every leadership (`LeadershipLost`); with `abandon`, the next beat gives each up in the backend too. */
  endLeaderships(abandon = false): void {
    for (const groupId of this.leadershipGroups()) {
      if (abandon) this.abandonedLeaderships.push(groupId);
      this.loseLeadership(groupId);
    }
  }

  /** Forget everything (after stop); waiters are left to their own abort. */
  clear(): void {
    this.holds.clear();
    this.leaderships.clear();
    this.groups.clear();
    this.waiters.clear();
    this.abandonedHolds = [];
    this.abandonedLeaderships = [];
    this.arm(Infinity);
  }
}
