import { performance } from 'node:perf_hooks';
import type { BackendEvents, Grant, HoldRef, LockRequest } from '../../core/backend.js';
import type { LockKeys } from './lock-keys.js';
import type { Touched } from './postgres-statements.js';
import { type SqlStatement, tryGrantsStatement } from './sql/index.js';

/**
 * How often queued requests look again while any wait: a holder that dies
 * frees its advisory lock at once but notifies nobody. The head waiter
 * learns of it sooner through the death watch (postgres-death-watch.ts);
 * this covers the rest (a waiter behind a dead waiter, a Python holder).
 */
export const WAITER_POLL_MS = 500;

const text = (value: bigint): string => value.toString();

/** A grant on PostgreSQL: its lease is the driver's (the beat interval plus the statement timeout). */
export const grantOf = (fence: bigint, leaseMs: number): Grant => ({ fence, leaseMs });

/** What the waiting side needs from its driver. */
export interface PostgresWaitersHost {
  readonly keys: LockKeys;
  readonly sessionKey: bigint;
  readonly connected: boolean;
  readonly leaseMs: number;
  query<R>(statement: SqlStatement, values: unknown[], touched?: Touched): Promise<R[]>;
  /** Watch this session (the one the first of our head waiters waits for), or none. */
  watch(sessionKey: bigint | null): void;
  acquire(request: LockRequest): Promise<Grant | 'queued' | null>;
  events(): BackendEvents | undefined;
}

/**
 * The requests of this session that wait in the queue table for a lock:
 * woken by NOTIFY on the session's channel, looked at again every
 * `WAITER_POLL_MS` while any wait, every look due at once in one round trip.
 */
export class PostgresWaiters {
  /** Queued requests waiting for their grant, by holder. */
  private readonly queued = new Map<string, HoldRef>();
  /** The session each queued request waits for, when it is at the head of its queue. */
  private readonly blockers = new Map<string, bigint>();
  /** ms between looks while any request waits. */
  pollMs = WAITER_POLL_MS;
  private readonly pendingChecks = new Set<string>();
  private checkScheduled = false;
  private poll: NodeJS.Timeout | undefined;

  constructor(private readonly host: PostgresWaitersHost) {}

  /** Known before the request goes out: a wake-up may arrive before the answer is read. */
  expect(ref: HoldRef): void {
    this.queued.set(ref.holder, ref);
  }

  has(holder: string): boolean {
    return this.queued.has(holder);
  }

  get(holder: string): HoldRef | undefined {
    return this.queued.get(holder);
  }

  get size(): number {
    return this.queued.size;
  }

  /** Forget every waiter and stop looking (the session ends, or drops). */
  clear(): void {
    this.queued.clear();
    this.pendingChecks.clear();
    this.blockers.clear();
    this.host.watch(null);
    this.stopPoll();
  }

  /** `holder` waits for session `blocker` (null: for none we can watch). */
  waitsFor(holder: string, blocker: bigint | null): void {
    if (blocker === null || !this.queued.has(holder)) this.blockers.delete(holder);
    else this.blockers.set(holder, blocker);
    this.host.watch(this.blockers.values().next().value ?? null);
  }

  /** A watched session died: every request looks again now. */
  checkAll(): void {
    for (const holder of this.queued.keys()) this.check(holder);
  }

  /** Look again for `holder` soon; every look due at once goes in one round trip. */
  check(holder: string): void {
    this.pendingChecks.add(holder);
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(() => void this.runChecks());
  }

  private async runChecks(): Promise<void> {
    this.checkScheduled = false;
    const refs = [...this.pendingChecks].map((holder) => this.queued.get(holder)).filter((ref) => ref !== undefined);
    this.pendingChecks.clear();
    if (refs.length === 0 || !this.host.connected) return;
    const since = performance.now();
    let rows: { holder: string; fence: string; blocker: string | null }[];
    const keys = refs.map((ref) => this.host.keys.lock(ref.name));
    try {
      rows = await this.host.query(
        tryGrantsStatement,
        [text(this.host.sessionKey), refs.map((ref) => ref.holder), keys.map(text)],
        { keys },
      );
    } catch {
      return; // the poll and the beat look again
    }
    for (const row of rows) {
      const ref = this.queued.get(row.holder);
      if (!ref) continue; // withdrawn meanwhile: the withdrawal hands any grant back
      const fence = BigInt(row.fence);
      if (fence > 0n) {
        this.forget(row.holder);
        this.host.events()?.granted(ref, grantOf(fence, this.host.leaseMs), since);
      } else if (fence < 0n) {
        void this.requeue(ref);
      } else {
        this.waitsFor(row.holder, row.blocker === null ? null : BigInt(row.blocker));
      }
    }
  }

  /** While any request waits, look at all of them every `WAITER_POLL_MS` (a dead holder notifies nobody). */
  startPoll(): void {
    if (this.poll) return;
    this.poll = setInterval(() => {
      if (this.queued.size === 0) return this.stopPoll();
      this.checkAll();
    }, this.pollMs);
    this.poll.unref();
  }

  stopPoll(): void {
    clearInterval(this.poll);
    this.poll = undefined;
  }

  /** The request lost its place (its connection dropped): queue again, at the back. */
  async requeue(ref: HoldRef): Promise<void> {
    // Only while the core still waits: a withdrawn request must not come back.
    if (!this.queued.has(ref.holder)) return;
    try {
      const since = performance.now();
      const answer = await this.host.acquire({ ...ref, wait: true });
      if (answer !== null && answer !== 'queued') this.host.events()?.granted(ref, answer, since);
    } catch {
      // The next beat reports the waiter again.
    }
  }

  forget(holder: string): void {
    this.queued.delete(holder);
    this.pendingChecks.delete(holder);
    if (this.blockers.delete(holder)) this.host.watch(this.blockers.values().next().value ?? null);
  }
}
