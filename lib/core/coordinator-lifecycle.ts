import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Observable, Subject } from 'rxjs';
import type { Partitioner } from '../hashring/partitioner.js';
import type { Backend, BackendEvents, BeatReport, BeatRequest } from './backend.js';
import { type Characteristic, ReadOnlySet } from './characteristic.js';
import { CoordinationError, GroupAlreadyExistError, GroupNotCreatedError, MemberAlreadyExistError } from '../errors.js';
import { type CoordinationEvent, type GroupChange, LeadershipLost, LockLost } from './events.js';
import type { CoordinatorLogger, CoordinatorOptions, StartOptions } from './coordinator-options.js';
import { assertId } from './ids.js';
import { PacedLoop } from './paced-loop.js';
import type { LockParts } from './lock.js';
import { LockWaiters } from './lock-waiters.js';
import { Session } from './session.js';
import { Operations } from './operations.js';
import { WatcherRuns } from './watcher-runs.js';

/** How long `stop()` lets operations in flight finish before it disconnects anyway. */
const DEFAULT_STOP_DRAIN_MS = 10_000;

/** One abort per stop, heard by every blocked acquire: lift Node's 10-listener warning. */
function newStopController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * The life of a coordinator, written once for every driver: start and stop,
 * this member's session and its beat, the heart, `events$`, and the one
 * wrapper every public operation goes through (started check, in-flight
 * tracking for `stop()`, backend error translation). `Coordinator` adds the
 * tooz API on top.
 */
export abstract class CoordinatorLifecycle {
  /** What the backend guarantees, as it declares (docs/drivers.md). */
  readonly characteristics: ReadonlySet<Characteristic>;
  /**
   * Whether `heartbeat()` must be called periodically: always, on every
   * driver (liveness, holds and leaderships all lapse without it). Kept as
   * tooz's `requires_beating` for code that asks.
   */
  get requiresBeating(): true {
    return true;
  }

  protected readonly logger: CoordinatorLogger;
  /** This coordinator's state, and the wrapper every public operation goes through. */
  protected readonly operations: Operations;
  /** Who waits for a lock: the one place (lock-waiters.ts). */
  protected readonly waiters: LockWaiters;
  protected readonly session: Session;
  /**
   * Groups being rejoined after an eviction, and when each rejoin last
   * finished: a beat that overlaps one (its read predates the rejoin) must
   * not take the group for left on purpose.
   */
  private readonly rejoins = new Map<string, number>();
  protected readonly partitioners = new Set<Partitioner>();
  protected readonly events = new Subject<CoordinationEvent>();
  /** The background beat of start({ startHeart: true }), one per start. */
  private beatLoop: PacedLoop | undefined;
  /** Aborted at stop(): every blocked acquire gives up. */
  private stopping = newStopController();
  private readonly stopDrainMs: number;
  protected readonly watchers: WatcherRuns;
  /** What every `Lock` of this coordinator works with. @internal */
  protected readonly lockParts: LockParts;

  private readonly changes = new Subject<GroupChange>();

  /** Every event this coordinator delivers, as it delivers it. */
  readonly events$: Observable<CoordinationEvent> = this.events.asObservable();
  /**
   * The backend's pushes, as they arrive: a watched group's members changed
   * (when a join or leave watcher is registered for it), or the leader of a
   * group this member runs for is gone. Nothing is delivered or elected here:
   * call `runWatchers()` soon after (the Nest layer does), and the joins,
   * leaves and election come from that run (docs/api.md#pushes).
   */
  readonly changes$: Observable<GroupChange> = this.changes.asObservable();

  protected constructor(
    readonly memberId: string,
    options: CoordinatorOptions,
    protected readonly backend: Backend,
  ) {
    assertId(memberId, 'memberId');
    this.characteristics = new ReadOnlySet(backend.characteristics);
    this.logger = options.logger ?? console;
    this.stopDrainMs = typeof options.stopTimeoutMs === 'number' ? options.stopTimeoutMs : DEFAULT_STOP_DRAIN_MS;
    const operations = (this.operations = new Operations(memberId, backend));
    const waiters = (this.waiters = new LockWaiters({
      backend,
      track: (work) => operations.inFlight.track(work),
      unclaimed: (ref) => session.unclaimed(ref),
    }));
    const session = (this.session = new Session(
      { leadershipLost: (groupId) => this.events.next(new LeadershipLost(groupId, memberId)) },
      waiters,
    ));
    this.lockParts = {
      backend,
      session,
      waiters,
      operations,
      stopSignal: () => this.stopping.signal,
      lockLost: (lock) => this.events.next(new LockLost(lock.name, memberId)),
    };
    this.watchers = new WatcherRuns({
      memberId,
      backend,
      session,
      operations,
      emit: (event) => this.events.next(event),
      reconcileMembership: async () => {
        await this.heartbeat();
      },
    });
  }

  /** What the backend reports between calls. */
  private get backendEvents(): BackendEvents {
    return {
      connectionLost: () => {
        // Lost here at once; in the backend they may outlive the connection, so the next beat lets them go.
        this.session.endHolds(true, true);
        this.session.endLeaderships(true);
      },
      connectionRestored: () => {
        if (this.operations.state !== 'started') return;
        // Rejoin, re-subscribe and reconcile now rather than at the next beat.
        this.backend.watch(this.watchers.registry.watchedGroups()).catch(() => undefined);
        this.heartbeat().catch((error) =>
          this.logger.warn(`Beat after reconnecting failed for ${this.memberId}: ${String(error)}`),
        );
      },
      membersChanged: (groupId) => {
        if (this.watchers.membersChanged(groupId)) this.changes.next({ groupId, kind: 'members' });
      },
      leaderGone: (groupId) => {
        if (this.watchers.leaderGone(groupId)) this.changes.next({ groupId, kind: 'leader' });
      },
      leadershipLost: (groupId) => this.session.loseLeadership(groupId),
      holdLost: (holder) => this.session.loseHold(holder),
      mayBeGranted: (holders) => this.waiters.mayBeGranted(holders),
    };
  }

  // ---- Lifecycle ----------------------------------------------------------

  get isStarted(): boolean {
    return this.operations.state === 'started';
  }

  async start(options: StartOptions = {}): Promise<void> {
    if (this.operations.state !== 'stopped')
      throw new CoordinationError(`Coordinator ${this.memberId} is already ${this.operations.state}`);
    this.operations.state = 'starting';
    try {
      await this.operations.call('start', {}, () => this.backend.connect(this.backendEvents));
    } catch (error) {
      this.operations.state = 'stopped';
      throw error;
    }
    this.stopping = newStopController();
    this.session.clear();
    this.operations.state = 'started';
    if (options.startHeart) this.beatLoop = this.startBeatLoop();
  }

  /**
   * Beat in the background, tooz's heart: the next beat is due the interval
   * minus the beat's own time; a failed beat is logged and retried a second
   * after it began (tooz's heart retries forever too). Unref'd, like tooz's
   * daemon thread: it alone does not keep the process alive.
   */
  private startBeatLoop(): PacedLoop {
    let everyMs = this.backend.beatIntervalMs;
    return new PacedLoop({
      run: async () => {
        try {
          everyMs = await this.heartbeat();
        } catch (error) {
          everyMs = 1000;
          this.logger.warn(`Heartbeat of ${this.memberId} failed, retrying in 1 s: ${String(error)}`);
        }
      },
      everyMs: () => everyMs,
      onOverrun: (tookMs, intervalMs) =>
        this.logger.warn(
          `Heartbeat of ${this.memberId} took ${Math.round(tookMs)} ms, longer than its ${intervalMs} ms interval: ` +
            'holds and leaderships may lapse',
        ),
    }).start(0);
  }

  /**
   * Let operations in flight finish (within a bound), then give up every
   * leadership at once (so another member's next election wins), leave every
   * joined group and release held locks in one batch, and disconnect. The
   * session is forgotten even if that fails; the failure is rethrown once the
   * coordinator is stopped.
   */
  async stop(): Promise<void> {
    if (this.operations.state !== 'started') throw new CoordinationError(`Coordinator ${this.memberId} is not started`);
    this.operations.state = 'stopping';
    this.stopping.abort(); // blocked acquires give up before held locks are released below
    const failures: unknown[] = [];
    try {
      // A beat stuck on a dead network must not hold stop() for ever: it waits as long as the drain may.
      const heartStopped = this.beatLoop?.stop() ?? Promise.resolve();
      this.beatLoop = undefined;
      if (!(await this.operations.inFlight.drainOne(heartStopped, this.stopDrainMs))) {
        this.logger.warn(`Coordinator ${this.memberId} stopped its heart with a beat still running`);
      }
      // A stop() from inside a watcher callback must not wait for the run that called it.
      if (!this.watchers.inCallback && !(await this.operations.inFlight.drain(this.stopDrainMs))) {
        this.logger.warn(`Coordinator ${this.memberId} stopped with operations still running`);
      }
      for (const partitioner of this.partitioners) await partitioner.stop().catch((e: unknown) => failures.push(e));
      this.partitioners.clear();
      const snapshot = this.session.snapshot();
      try {
        await this.operations.call('stop', {}, () => this.backend.disconnect(snapshot));
        this.session.endHolds(false);
      } catch (error) {
        failures.push(error);
        this.session.endHolds(true); // forgotten all the same: a later session must not keep them alive
      }
      this.session.endLeaderships();
    } finally {
      this.session.clear();
      this.operations.state = 'stopped';
    }
    if (failures.length > 0) throw failures[0];
  }

  /** A cheap round trip proving the backend answers (for health checks). */
  ping(): Promise<void> {
    // Not counted in flight: a ping that never answers must not hold up stop().
    if (this.operations.state !== 'started') {
      return Promise.reject(
        new CoordinationError(`Cannot ping: coordinator ${this.memberId} is ${this.operations.state}`),
      );
    }
    return this.operations.call('ping', {}, () => this.backend.ping());
  }

  /**
   * Refresh this member's liveness, every lock it holds, every queued waiter
   * and every leadership, in one batch; returns ms until the next beat is due.
   * When this member's liveness had lapsed, it rejoins the groups it was
   * evicted from, with the same capabilities.
   */
  heartbeat(): Promise<number> {
    return this.operations.run('heartbeat', {}, () => this.beatOnce());
  }

  private async beatOnce(): Promise<number> {
    const request = this.session.beatRequest();
    const since = performance.now();
    let report: BeatReport;
    try {
      report = await this.backend.beat(request);
    } catch (error) {
      this.session.beatFailed(request);
      throw error;
    }
    await this.applyBeat(request, report, since);
    return this.backend.beatIntervalMs;
  }

  private async applyBeat(request: BeatRequest, report: BeatReport, since: number): Promise<void> {
    this.session.refreshed(request, since, this.backend.leaseMs);
    for (const holder of report.lostHolds) this.session.loseHold(holder);
    for (const groupId of report.lostLeaderships) this.session.loseLeadership(groupId);
    this.waiters.answered(request.waiters, report.waiters, since);
    const failures: unknown[] = [];
    const skip = new Set<string>();
    for (const groupId of report.missingGroups) {
      const rejoined = this.rejoins.get(groupId);
      // Read before another beat's rejoin of it finished: that beat's word counts, not this one's.
      if (rejoined !== undefined && (rejoined === Infinity || rejoined >= since)) skip.add(groupId);
    }
    // Marked all at once, before the first await: an overlapping beat must see every rejoin under way.
    if (report.lapsed) {
      for (const groupId of report.missingGroups) if (!skip.has(groupId)) this.rejoins.set(groupId, Infinity);
    }
    // Not lapsed, yet missing: left through a twin (stays left), or the group itself vanished with the
    // backend's data (re-created below). One batched read tells them apart, only when it is needed.
    const unexplained = report.lapsed ? [] : report.missingGroups.filter((groupId) => !skip.has(groupId));
    const existing = unexplained.length > 0 ? await this.backend.getMembers(unexplained) : new Map();
    for (const groupId of report.missingGroups) {
      if (skip.has(groupId)) continue;
      const capabilities = request.groups.get(groupId);
      const vanished = existing.has(groupId) && existing.get(groupId) === null;
      if (capabilities === undefined || (!report.lapsed && !vanished)) {
        if (report.lapsed) this.rejoins.set(groupId, performance.now());
        this.session.groups.delete(groupId); // left through a twin: stays left
        continue;
      }
      try {
        await this.rejoin(groupId, capabilities);
      } catch (error) {
        failures.push(error);
      } finally {
        this.rejoins.set(groupId, performance.now());
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  /**
   * Join `groupId` again with the capabilities it had (docs/semantics.md, "Evictions and data loss"):
   * after an eviction, or after the backend lost the group with its data (re-created first).
   */
  private async rejoin(groupId: string, capabilities: Uint8Array): Promise<void> {
    let recreated = false;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.backend.joinGroup(groupId, capabilities);
        break;
      } catch (error) {
        if (error instanceof MemberAlreadyExistError) return;
        if (!(error instanceof GroupNotCreatedError) || attempt > 0) throw error;
      }
      // The group vanished although this member never left it: the backend lost it. Re-create it.
      await this.backend.createGroup(groupId).catch((error: unknown) => {
        if (!(error instanceof GroupAlreadyExistError)) throw error; // another member re-created it first
      });
      recreated = true;
    }
    this.logger.warn(
      recreated
        ? `Group ${groupId} had vanished from the backend (its data was lost); member ${this.memberId} re-created and rejoined it`
        : `Member ${this.memberId} had been evicted from group ${groupId} (its liveness lapsed); rejoined it`,
    );
  }
}
