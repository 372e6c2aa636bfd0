import { performance } from 'node:perf_hooks';
import { timerDelay } from './timeout.js';

/**
 * The groups this coordinator leads, each with the local end of its lease.
 * A lease is counted from before the call that won or refreshed it, so the
 * local view ends no later than the backend's. When a lease runs out
 * unrenewed (a late or failing heart), leadership is dropped at that moment:
 * `isLeaderOf` turns false and `LeadershipLost` fires, before another member
 * can be elected, so two members never both believe they lead.
 */
export class Leaderships {
  private readonly leases = new Map<string, { until: number; timer: NodeJS.Timeout | undefined }>();

  constructor(private readonly onLost: (groupId: string) => void) {}

  has(groupId: string): boolean {
    const lease = this.leases.get(groupId);
    if (!lease) return false;
    if (lease.until > performance.now()) return true;
    this.lose(groupId);
    return false;
  }

  groups(): string[] {
    return [...this.leases.keys()];
  }

  /** Won or refreshed at `since` (a `performance.now()` taken before the backend call). */
  renew(groupId: string, since: number, expiryMs: number | undefined): void {
    const previous = this.leases.get(groupId);
    clearTimeout(previous?.timer);
    if (expiryMs === undefined) {
      this.leases.set(groupId, { until: Infinity, timer: undefined });
      return;
    }
    const lease = { until: since + expiryMs, timer: undefined as NodeJS.Timeout | undefined };
    this.leases.set(groupId, lease);
    this.watch(groupId, lease);
  }

  /** Drop the leadership when its lease ends; a timer may fire a little early, so look again. */
  private watch(groupId: string, lease: { until: number; timer: NodeJS.Timeout | undefined }): void {
    lease.timer = setTimeout(
      () => {
        if (this.leases.get(groupId) !== lease) return;
        if (this.has(groupId)) this.watch(groupId, lease);
      },
      timerDelay(lease.until - performance.now() + 1),
    );
    lease.timer.unref();
  }

  /** End leadership of `groupId` locally; true (and `onLost` called) if it was held. */
  lose(groupId: string): boolean {
    const lease = this.leases.get(groupId);
    if (!lease) return false;
    clearTimeout(lease.timer);
    this.leases.delete(groupId);
    this.onLost(groupId);
    return true;
  }
}
