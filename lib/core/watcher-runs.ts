import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { Backend } from './backend.js';
import { CoordinationError, GroupNotCreatedError } from '../errors.js';
import { type CoordinationEvent, LeaderElected, MemberJoinedGroup, MemberLeftGroup } from './events.js';
import type { Operations } from './operations.js';
import type { Session } from './session.js';
import { withTimeout } from './timeout.js';
import { WatchRegistry, type WatchKind } from './watch-registry.js';

/** The owners the watcher runs work with, handed over by their coordinator. */
export interface WatcherParts {
  readonly memberId: string;
  readonly backend: Backend;
  /** Groups joined and leaderships held. */
  readonly session: Session;
  /** The coordinator's state and its operation wrapper. */
  readonly operations: Operations;
  /** Deliver an event on the coordinator's `events$`. */
  readonly emit: (event: CoordinationEvent) => void;
  /** This member is missing from a group it joined: find out why (a beat) now. */
  readonly reconcileMembership: () => Promise<void>;
}

interface Delivery {
  kind: WatchKind;
  groupId: string;
  event: CoordinationEvent;
}

/** What one run found in the backend, to deliver once earlier runs' callbacks finished. */
interface Observed {
  deliveries: Delivery[];
  failures: unknown[];
}

/**
 * Watchers and elections. A run has two phases: it first reads the backend
 * (changed members, one batched read; elections, one batched call), then runs
 * the callbacks. Runs read the backend one after another and deliver one
 * after another, but a run's reads never wait for an earlier run's callbacks:
 * a slow callback does not hold up an election.
 */
export class WatcherRuns {
  readonly registry = new WatchRegistry();
  /** Groups a backend push said changed since they were last read. */
  private readonly changed = new Set<string>();
  private lastFullRead = -Infinity;
  private backendQueue: Promise<unknown> = Promise.resolve();
  private deliveryQueue: Promise<unknown> = Promise.resolve();
  /** Set while user callbacks run: a run started from one would wait on itself. */
  private readonly insideCallback = new AsyncLocalStorage<{ active: boolean }>();

  constructor(private readonly parts: WatcherParts) {}

  /** Whether the caller runs inside one of this coordinator's watcher callbacks. */
  get inCallback(): boolean {
    // The context reaches timers a callback schedules too; it counts only while the callbacks run.
    return this.insideCallback.getStore()?.active === true;
  }

  /** A push said `groupId`'s members changed: true when a run has joins or leaves to look for there. */
  membersChanged(groupId: string): boolean {
    if (!this.registry.isWatchingMembers(groupId)) return false;
    this.changed.add(groupId);
    return true;
  }

  /** A push said `groupId`'s leader is gone: true when this member runs for it (a run may win it now). */
  leaderGone(groupId: string): boolean {
    return this.registry.count('elected', groupId) > 0;
  }

  // ---- Registration -------------------------------------------------------------

  async watchMembers(kind: 'join' | 'leave', groupId: string, callback: Function): Promise<void> {
    // The members present now are the baseline: they never produce join events.
    const members = await this.readOne(groupId);
    if (!this.registry.hasBaseline(groupId)) this.registry.setBaseline(groupId, members);
    await this.add(kind, groupId, callback);
  }

  async watchElected(groupId: string, callback: Function): Promise<void> {
    await this.readOne(groupId); // GroupNotCreatedError before anything is registered
    await this.add('elected', groupId, callback);
  }

  async unwatch(kind: WatchKind, groupId: string, callback: Function): Promise<void> {
    this.registry.remove(kind, groupId, callback);
    if (!this.registry.isWatched(groupId)) await this.parts.backend.watch(this.registry.watchedGroups());
  }

  private async add(kind: WatchKind, groupId: string, callback: Function): Promise<void> {
    const fresh = !this.registry.isWatched(groupId);
    this.registry.add(kind, groupId, callback);
    if (fresh) await this.parts.backend.watch(this.registry.watchedGroups());
  }

  private async readOne(groupId: string): Promise<Set<string>> {
    const members = (await this.parts.backend.getMembers([groupId])).get(groupId);
    if (!members) throw new GroupNotCreatedError(groupId);
    return members;
  }

  // ---- Runs -----------------------------------------------------------------------

  runWatchers(timeoutMs?: number): Promise<unknown[]> {
    return this.run('runWatchers', true, timeoutMs);
  }

  runElectCoordinator(): Promise<unknown[]> {
    return this.run('runElectCoordinator', false, undefined);
  }

  private run(operation: string, members: boolean, timeoutMs: number | undefined): Promise<unknown[]> {
    if (this.inCallback) {
      return Promise.reject(
        new CoordinationError(
          `${operation}() was called from inside a watcher callback of member ${this.parts.memberId}; ` +
            'it would wait for itself. Call it from outside the callback (e.g. on a timer).',
        ),
      );
    }
    // Only the backend phase counts as in flight: stop() waits for it, never for user callbacks.
    const observed = this.parts.operations.run(operation, {}, () =>
      this.serially(() => this.observe(operation, members)),
    );
    // Handled through `delivered`; until the earlier deliveries finish, this keeps a refusal from being "unhandled".
    observed.catch(() => undefined);
    const delivered = this.deliveryQueue.then(() => observed).then((found) => this.deliver(found));
    this.deliveryQueue = delivered.catch(() => undefined);
    return withTimeout(delivered, timeoutMs, operation);
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.backendQueue.then(step);
    this.backendQueue = run.catch(() => undefined);
    return run;
  }

  /** The backend phase: member changes, then elections. A failure in one does not skip the other. */
  private async observe(operation: string, members: boolean): Promise<Observed> {
    const observed: Observed = { deliveries: [], failures: [] };
    if (members) {
      const groups = this.registry.memberWatchedGroups();
      try {
        await this.observeMembers(observed.deliveries);
      } catch (error) {
        const about = groups.length === 1 ? { groupId: groups[0] } : {};
        observed.failures.push(this.parts.operations.translate(error, `${operation} (reading members)`, about));
      }
    }
    try {
      await this.elect(observed.deliveries);
    } catch (error) {
      observed.failures.push(this.parts.operations.translate(error, `${operation} (election)`, {}));
    }
    return observed;
  }

  private async observeMembers(deliveries: Delivery[]): Promise<void> {
    const watched = this.registry.memberWatchedGroups();
    const pushes = this.parts.backend.membershipPushes;
    const now = performance.now();
    const full = !pushes || now - this.lastFullRead >= pushes.fallbackMs;
    const groups = full ? watched : watched.filter((groupId) => this.changed.has(groupId));
    if (groups.length === 0) return;
    for (const groupId of groups) this.changed.delete(groupId);
    let read: Map<string, Set<string> | null>;
    try {
      read = await this.parts.backend.getMembers(groups);
    } catch (error) {
      for (const groupId of groups) this.changed.add(groupId); // read them again next run
      throw error;
    }
    if (full) this.lastFullRead = now;
    let missing = false;
    for (const groupId of groups) {
      if (!this.registry.isWatchingMembers(groupId)) continue; // unwatched meanwhile
      // A deleted group reads as empty: its members are reported as left.
      const current = read.get(groupId) ?? new Set<string>();
      if (this.parts.session.groups.has(groupId) && !current.has(this.parts.memberId)) missing = true;
      const { joined, left } = this.registry.diff(groupId, current);
      this.registry.setBaseline(groupId, current);
      for (const memberId of joined) {
        deliveries.push({ kind: 'join', groupId, event: new MemberJoinedGroup(groupId, memberId) });
      }
      for (const memberId of left) {
        deliveries.push({ kind: 'leave', groupId, event: new MemberLeftGroup(groupId, memberId) });
      }
    }
    if (missing) await this.parts.reconcileMembership();
  }

  /** Try to win, or keep, every group we run for, in one backend call. */
  private async elect(deliveries: Delivery[]): Promise<void> {
    const candidacies = this.registry.electionGroups();
    if (candidacies.length === 0) return;
    const { backend, session } = this.parts;
    const since = performance.now();
    let led: Set<string>;
    try {
      led = await backend.elect(candidacies);
    } catch (error) {
      // Cut half way, it may have won somewhere: nobody believes that, so the next beat gives it up.
      for (const groupId of candidacies) if (!session.leads(groupId)) session.abandonLeadership(groupId);
      throw error;
    }
    for (const groupId of candidacies) {
      const wasLeading = session.leads(groupId);
      if (!led.has(groupId)) {
        if (wasLeading) session.loseLeadership(groupId);
        continue;
      }
      if (!this.parts.operations.accepting) {
        // stop() began while we were winning: give it straight back.
        await backend.standDown(groupId).catch(() => false);
        continue;
      }
      session.leadershipRenewed(groupId, since, backend.leaseMs);
      if (!wasLeading) {
        deliveries.push({
          kind: 'elected',
          groupId,
          event: new LeaderElected(groupId, this.parts.memberId),
        });
      }
    }
  }

  /** The callback phase: emit each event, run its callbacks; the first failure is rethrown after all ran. */
  private async deliver(observed: Observed): Promise<unknown[]> {
    const results: unknown[] = [];
    const failures = [...observed.failures];
    const context = { active: true };
    try {
      await this.insideCallback.run(context, async () => {
        for (const { kind, groupId, event } of observed.deliveries) {
          this.parts.emit(event);
          try {
            results.push(...(await this.registry.run(kind, groupId, event)));
          } catch (error) {
            failures.push(error);
          }
        }
      });
    } finally {
      context.active = false;
    }
    if (failures.length > 0) throw failures[0];
    return results;
  }
}
