import { performance } from 'node:perf_hooks';
import type { BackendEvents, Grant, HoldRef, LockRequest } from '../../core/backend.js';
import type { LockKeys } from './lock-keys.js';
import { type SqlStatement, tryGrantsStatement } from './sql/index.js';

/**
 * How often queued requests look again while any wait: a holder that dies
 * frees its advisory lock at once but notifies nobody (docs/postgresql.md).
 */
export const WAITER_POLL_MS = 500;

const text = (value: bigint): string => value.toString();

/** A grant on PostgreSQL: holds end only with the session, so no lease. */
export const grantOf = (fence: bigint): Grant => ({ fence, leaseMs: undefined });

/** What the waiting side needs from its driver. */
export interface PostgresWaitersHost {
  readonly keys: LockKeys;
  readonly sessionKey: bigint;
  readonly connected: boolean;
  query<R>(statement: SqlStatement, values: unknown[]): Promise<R[]>;
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
    this.stopPoll();
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
    let rows: { holder: string; fence: string }[];
    try {
      rows = await this.host.query(tryGrantsStatement, [
        text(this.host.sessionKey),
        refs.map((ref) => ref.holder),
        refs.map((ref) => text(this.host.keys.lock(ref.name))),
      ]);
    } catch {
      return; // the poll and the beat look again
    }
    for (const row of rows) {
      const ref = this.queued.get(row.holder);
      if (!ref) continue; // withdrawn meanwhile: the withdrawal hands any grant back
      const fence = BigInt(row.fence);
      if (fence > 0n) {
        this.forget(row.holder);
        this.host.events()?.granted(ref, grantOf(fence), since);
      } else if (fence < 0n) {
        void this.requeue(ref);
      }
    }
  }

  /** While any request waits, look at all of them every `WAITER_POLL_MS` (a dead holder notifies nobody). */
  startPoll(): void {
    if (this.poll) return;
    this.poll = setInterval(() => {
      if (this.queued.size === 0) return this.stopPoll();
      for (const holder of this.queued.keys()) this.check(holder);
    }, WAITER_POLL_MS);
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
  }
}
