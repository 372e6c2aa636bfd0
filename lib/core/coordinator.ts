import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Observable, Subject } from 'rxjs';
import { Partitioner } from '../hashring/partitioner.js';
import type { Backend, BackendEvents, BeatReport, BeatRequest } from './backend.js';
import { type CallContext, translateBackendError } from './backend-errors.js';
import { type Capabilities, decodeCapabilities, encodeCapabilities } from './capabilities.js';
import type { Characteristic } from './characteristic.js';
import { CoordinationError, GroupAlreadyExistError, GroupNotCreatedError, MemberAlreadyExistError } from './errors.js';
import {
  type CoordinationEvent,
  type LeaderElected,
  LeadershipLost,
  LockLost,
  type MemberJoinedGroup,
  type MemberLeftGroup,
} from './events.js';
import type {
  CoordinatorLogger,
  CoordinatorOptions,
  MemberInfo,
  PartitionOptions,
  StartOptions,
  WatchCallback,
} from './coordinator-options.js';
import { Heart } from './heart.js';
import { assertCallback, assertId } from './ids.js';
import { InFlight } from './in-flight.js';
import { Lock, type LockHost } from './lock.js';
import { Session } from './session.js';
import { sleep } from './timeout.js';
import type { WatchKind } from './watch-registry.js';
import { type WatcherHost, WatcherRuns } from './watcher-runs.js';

const JOIN_CREATE_ATTEMPTS = 10;
/** How long `stop()` lets operations in flight finish before it disconnects anyway. */
const DEFAULT_STOP_DRAIN_MS = 10_000;

/** One abort per stop, heard by every blocked acquire: lift Node's 10-listener warning. */
function newStopController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * The coordination API of tooz, written once for every driver. This class
 * owns the lifecycle, this member's session (groups, holds, leaderships),
 * watchers and elections, the heart and `events$`; a driver hands it a
 * `Backend` that says how its backend performs each batch.
 */
export abstract class Coordinator {
  abstract readonly characteristics: ReadonlySet<Characteristic>;
  /** True when `heartbeat()` must be called periodically (every built-in driver). */
  readonly requiresBeating: boolean = true;

  protected readonly logger: CoordinatorLogger;
  /** Set synchronously on entry to start()/stop(), so overlapping calls are refused. */
  private state: 'stopped' | 'starting' | 'started' | 'stopping' = 'stopped';
  private readonly session = new Session({
    leadershipLost: (groupId) => this.events.next(new LeadershipLost(groupId, this.memberId)),
  });
  private readonly inFlight = new InFlight();
  private readonly partitioners = new Set<Partitioner>();
  private readonly events = new Subject<CoordinationEvent>();
  private readonly heart = new Heart(
    () => this.heartbeat(),
    (error) => this.logger.warn(`Heartbeat of ${this.memberId} failed, retrying in 1 s: ${String(error)}`),
  );
  /** Aborted at stop(): every blocked acquire gives up. */
  private stopping = newStopController();
  private readonly stopDrainMs: number;
  private readonly watchers: WatcherRuns;
  private readonly host: LockHost;

  /** Every event this coordinator delivers, as it delivers it. */
  readonly events$: Observable<CoordinationEvent> = this.events.asObservable();

  protected constructor(
    readonly memberId: string,
    options: CoordinatorOptions,
    private readonly backend: Backend,
  ) {
    assertId(memberId, 'memberId');
    this.logger = options.logger ?? console;
    this.stopDrainMs = typeof options.stopTimeoutMs === 'number' ? options.stopTimeoutMs : DEFAULT_STOP_DRAIN_MS;
    const coordinator = this;
    this.host = {
      memberId,
      backend,
      session: this.session,
      get stopSignal() {
        return coordinator.stopping.signal;
      },
      get accepting() {
        return coordinator.state === 'started';
      },
      operation: (name, context, work) => this.operation(name, context, work),
      backendCall: (name, context, work) => this.backendCall(name, context, work),
      lockLost: (lock) => this.events.next(new LockLost(lock.name, this.memberId)),
    };
    this.watchers = new WatcherRuns(this.watcherHost());
  }

  private watcherHost(): WatcherHost {
    const coordinator = this;
    return {
      memberId: this.memberId,
      backend: this.backend,
      session: this.session,
      get accepting() {
        return coordinator.state === 'started';
      },
      operation: <T>(name: string, context: CallContext, work: () => Promise<T>) => this.operation(name, context, work),
      emit: (event: CoordinationEvent) => this.events.next(event),
      reconcileMembership: async () => {
        await this.heartbeat();
      },
    };
  }

  /** What the backend reports between calls. */
  private get backendEvents(): BackendEvents {
    return {
      connectionLost: () => {
        this.session.endHolds(true);
        this.session.endLeaderships();
      },
      connectionRestored: () => {
        if (this.state !== 'started') return;
        // Rejoin, re-subscribe and reconcile now rather than at the next beat.
        this.backend.watch(this.watchers.registry.watchedGroups()).catch(() => undefined);
        this.heartbeat().catch((error) =>
          this.logger.warn(`Beat after reconnecting failed for ${this.memberId}: ${String(error)}`),
        );
      },
      membersChanged: (groupId) => this.watchers.membersChanged(groupId),
      leaderGone: () => undefined, // candidates contest at every run anyway
      leadershipLost: (groupId) => this.session.loseLeadership(groupId),
      holdLost: (holder) => this.session.loseHold(holder),
      granted: (ref, grant, since) => this.session.granted(ref, grant, since),
    };
  }

  // ---- Lifecycle ----------------------------------------------------------

  get isStarted(): boolean {
    return this.state === 'started';
  }

  async start(options: StartOptions = {}): Promise<void> {
    if (this.state !== 'stopped') throw new CoordinationError(`Coordinator ${this.memberId} is already ${this.state}`);
    this.state = 'starting';
    try {
      await this.backendCall('start', {}, () => this.backend.connect(this.backendEvents));
    } catch (error) {
      this.state = 'stopped';
      throw error;
    }
    this.stopping = newStopController();
    this.session.clear();
    this.state = 'started';
    if (options.startHeart && this.requiresBeating) this.heart.start();
  }

  /**
   * Let operations in flight finish (within a bound), then give up every
   * leadership at once (so another member's next election wins), leave every
   * joined group and release held locks in one batch, and disconnect. The
   * session is forgotten even if that fails; the failure is rethrown once the
   * coordinator is stopped.
   */
  async stop(): Promise<void> {
    if (this.state !== 'started') throw new CoordinationError(`Coordinator ${this.memberId} is not started`);
    this.state = 'stopping';
    this.stopping.abort(); // blocked acquires give up before held locks are released below
    const failures: unknown[] = [];
    try {
      await this.heart.stop();
      // A stop() from inside a watcher callback must not wait for the run that called it.
      if (!this.watchers.inCallback && !(await this.inFlight.drain(this.stopDrainMs))) {
        this.logger.warn(`Coordinator ${this.memberId} stopped with operations still running`);
      }
      for (const partitioner of this.partitioners) await partitioner.stop().catch((e: unknown) => failures.push(e));
      this.partitioners.clear();
      const snapshot = this.session.snapshot();
      try {
        await this.backendCall('stop', {}, () => this.backend.disconnect(snapshot));
        this.session.endHolds(false);
      } catch (error) {
        failures.push(error);
        this.session.endHolds(true); // forgotten all the same: a later session must not keep them alive
      }
      this.session.endLeaderships();
    } finally {
      this.session.clear();
      this.state = 'stopped';
    }
    if (failures.length > 0) throw failures[0];
  }

  /** A cheap round trip proving the backend answers (for health checks). */
  ping(): Promise<void> {
    return this.operation('ping', {}, () => this.backend.ping());
  }

  /**
   * Refresh this member's liveness, every lock it holds, every queued waiter
   * and every leadership, in one batch; returns ms until the next beat is due.
   * When this member's liveness had lapsed, it rejoins the groups it was
   * evicted from, with the same capabilities.
   */
  heartbeat(): Promise<number> {
    return this.operation('heartbeat', {}, async () => {
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
    });
  }

  private async applyBeat(request: BeatRequest, report: BeatReport, since: number): Promise<void> {
    this.session.refreshed(request, since, this.backend.leaseMs);
    for (const holder of report.lostHolds) this.session.loseHold(holder);
    for (const groupId of report.lostLeaderships) this.session.loseLeadership(groupId);
    for (const { ref, grant } of report.grants) this.session.granted(ref, grant, since);
    const failures: unknown[] = [];
    for (const groupId of report.missingGroups) {
      const capabilities = request.groups.get(groupId);
      if (!report.lapsed || capabilities === undefined) {
        this.session.groups.delete(groupId); // left through a twin, or deleted: stays left
        continue;
      }
      try {
        await this.backend.joinGroup(groupId, capabilities);
        this.logger.warn(
          `Member ${this.memberId} had been evicted from group ${groupId} (its liveness lapsed); rejoined it`,
        );
      } catch (error) {
        if (error instanceof MemberAlreadyExistError) continue;
        if (error instanceof GroupNotCreatedError) this.session.groups.delete(groupId);
        else failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  // ---- Groups and members -------------------------------------------------

  createGroup(groupId: string): Promise<void> {
    assertId(groupId, 'groupId');
    return this.operation('createGroup', { groupId }, () => this.backend.createGroup(groupId));
  }

  getGroups(): Promise<string[]> {
    return this.operation('getGroups', {}, () => this.backend.getGroups());
  }

  joinGroup(groupId: string, capabilities?: Capabilities): Promise<void> {
    assertId(groupId, 'groupId');
    return this.operation('joinGroup', { groupId }, async () => {
      // Encode before touching the backend, so a refused value writes nothing.
      await this.join(groupId, encodeCapabilities(capabilities, groupId, this.memberId));
    });
  }

  /**
   * Join, creating the group if needed. Another member may delete the group
   * between our create and join; retry at once with a short, growing pause
   * (tooz sleeps a full second here).
   */
  joinGroupCreate(groupId: string, capabilities?: Capabilities): Promise<void> {
    assertId(groupId, 'groupId');
    return this.operation('joinGroupCreate', { groupId }, async () => {
      const encoded = encodeCapabilities(capabilities, groupId, this.memberId);
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.join(groupId, encoded);
        } catch (error) {
          if (!(error instanceof GroupNotCreatedError) || attempt >= JOIN_CREATE_ATTEMPTS) throw error;
        }
        try {
          await this.backend.createGroup(groupId);
        } catch (error) {
          if (!(error instanceof GroupAlreadyExistError)) throw error;
        }
        if (attempt > 1) await sleep(Math.min(10 * 2 ** attempt, 500) * (0.5 + Math.random()));
      }
    });
  }

  /** Join and note it; a join that lands after stop() began is undone, so stop leaves nothing behind. */
  private async join(groupId: string, capabilities: Uint8Array): Promise<void> {
    await this.backend.joinGroup(groupId, capabilities);
    if (this.state === 'started') {
      this.session.groups.set(groupId, capabilities);
      return;
    }
    await this.backend.leaveGroup(groupId).catch(() => undefined);
    throw new CoordinationError(`Cannot join ${groupId}: coordinator ${this.memberId} is ${this.state}`);
  }

  leaveGroup(groupId: string): Promise<void> {
    assertId(groupId, 'groupId');
    return this.operation('leaveGroup', { groupId }, async () => {
      await this.backend.leaveGroup(groupId);
      this.session.groups.delete(groupId);
    });
  }

  deleteGroup(groupId: string): Promise<void> {
    assertId(groupId, 'groupId');
    return this.operation('deleteGroup', { groupId }, async () => {
      await this.backend.deleteGroup(groupId);
      this.session.loseLeadership(groupId); // the group's leadership went with it
    });
  }

  getMembers(groupId: string): Promise<Set<string>> {
    assertId(groupId, 'groupId');
    return this.operation('getMembers', { groupId }, async () => {
      const members = (await this.backend.getMembers([groupId])).get(groupId);
      if (!members) throw new GroupNotCreatedError(groupId);
      return members;
    });
  }

  getMemberCapabilities(groupId: string, memberId: string): Promise<Capabilities> {
    assertId(groupId, 'groupId');
    assertId(memberId, 'memberId');
    return this.operation('getMemberCapabilities', { groupId }, async () => {
      const member = await this.backend.getMember(groupId, memberId);
      return decodeCapabilities(member.capabilities, groupId, memberId);
    });
  }

  getMembersWithCapabilities(groupId: string): Promise<Map<string, Capabilities>> {
    assertId(groupId, 'groupId');
    return this.operation('getMembersWithCapabilities', { groupId }, async () => {
      const raw = await this.backend.getMembersWithCapabilities(groupId);
      const decoded = new Map<string, Capabilities>();
      for (const [memberId, capabilities] of raw) {
        decoded.set(memberId, decodeCapabilities(capabilities, groupId, memberId));
      }
      return decoded;
    });
  }

  getMemberInfo(groupId: string, memberId: string): Promise<MemberInfo> {
    assertId(groupId, 'groupId');
    assertId(memberId, 'memberId');
    return this.operation('getMemberInfo', { groupId }, async () => {
      const member = await this.backend.getMember(groupId, memberId);
      return {
        capabilities: decodeCapabilities(member.capabilities, groupId, memberId),
        // Copies: a caller changing them must not change what the backend keeps.
        createdAt: new Date(member.createdAt.getTime()),
        updatedAt: new Date(member.updatedAt.getTime()),
      };
    });
  }

  updateCapabilities(groupId: string, capabilities: Capabilities): Promise<void> {
    assertId(groupId, 'groupId');
    return this.operation('updateCapabilities', { groupId }, async () => {
      const encoded = encodeCapabilities(capabilities, groupId, this.memberId);
      await this.backend.updateCapabilities(groupId, encoded);
      // A rejoin after an eviction uses the capabilities as they are now.
      if (this.session.groups.has(groupId)) this.session.groups.set(groupId, encoded);
    });
  }

  /** Groups this coordinator has joined and not left (nor been removed from, as far as it has seen). */
  get groups(): ReadonlySet<string> {
    return new Set(this.session.groups.keys());
  }

  // ---- Leadership, watchers -------------------------------------------------

  getLeader(groupId: string): Promise<string | null> {
    assertId(groupId, 'groupId');
    return this.operation('getLeader', { groupId }, () => this.backend.getLeader(groupId));
  }

  /** Give up leadership of `groupId` if held; others may win at their next `runWatchers()`. */
  standDownGroupLeader(groupId: string): Promise<boolean> {
    assertId(groupId, 'groupId');
    return this.operation('standDownGroupLeader', { groupId }, async () => {
      const held = await this.backend.standDown(groupId);
      this.session.loseLeadership(groupId);
      return held;
    });
  }

  /**
   * Whether this coordinator leads `groupId`, from memory: true from its
   * election until it stands down, stops, or its lease runs out unrefreshed.
   */
  isLeaderOf(groupId: string): boolean {
    return this.session.leads(groupId);
  }

  watchJoinGroup(groupId: string, callback: WatchCallback<MemberJoinedGroup>): Promise<void> {
    return this.watch('join', 'watchJoinGroup', groupId, callback);
  }

  watchLeaveGroup(groupId: string, callback: WatchCallback<MemberLeftGroup>): Promise<void> {
    return this.watch('leave', 'watchLeaveGroup', groupId, callback);
  }

  /** Run for leadership of `groupId`; `callback` fires each time this member becomes leader. */
  watchElectedAsLeader(groupId: string, callback: WatchCallback<LeaderElected>): Promise<void> {
    return this.watch('elected', 'watchElectedAsLeader', groupId, callback);
  }

  unwatchJoinGroup(groupId: string, callback: WatchCallback<MemberJoinedGroup>): Promise<void> {
    return this.unwatch('join', groupId, callback);
  }

  unwatchLeaveGroup(groupId: string, callback: WatchCallback<MemberLeftGroup>): Promise<void> {
    return this.unwatch('leave', groupId, callback);
  }

  /** Withdraw `callback`; the candidacy ends with the last one (leadership held is kept until stand-down). */
  unwatchElectedAsLeader(groupId: string, callback: WatchCallback<LeaderElected>): Promise<void> {
    return this.unwatch('elected', groupId, callback);
  }

  /**
   * How many callbacks of a kind are registered for `groupId` (for tests).
   * @internal
   */
  watcherCount(kind: WatchKind, groupId: string): number {
    return this.watchers.registry.count(kind, groupId);
  }

  private watch(kind: WatchKind, operation: string, groupId: string, callback: Function): Promise<void> {
    assertId(groupId, 'groupId');
    assertCallback(callback, 'callback');
    return this.operation(operation, { groupId }, () =>
      kind === 'elected'
        ? this.watchers.watchElected(groupId, callback)
        : this.watchers.watchMembers(kind, groupId, callback),
    );
  }

  private unwatch(kind: WatchKind, groupId: string, callback: Function): Promise<void> {
    assertId(groupId, 'groupId');
    assertCallback(callback, 'callback');
    return this.watchers.unwatch(kind, groupId, callback);
  }

  /**
   * Deliver the joins and leaves seen since the last run, then try to win the
   * elections we run for. Returns every callback's return value. A callback
   * that throws does not stop the others; the first error is rethrown once
   * all are delivered (tooz stops at the first and re-fires it next run).
   */
  runWatchers(timeoutMs?: number): Promise<unknown[]> {
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
      throw new TypeError(`runWatchers timeoutMs must be a number >= 0, got ${String(timeoutMs)}`);
    }
    return this.watchers.runWatchers(timeoutMs);
  }

  /** The election step alone: try to win every group we run for. */
  runElectCoordinator(): Promise<unknown[]> {
    return this.watchers.runElectCoordinator();
  }

  // ---- Locks and partitions --------------------------------------------------

  getLock(name: string): Lock {
    assertId(name, 'lock name');
    return new Lock(name, this.host);
  }

  joinPartitionedGroup(groupId: string, options: PartitionOptions = {}): Promise<Partitioner> {
    assertId(groupId, 'groupId');
    const { weight = 1, partitions = 32 } = options;
    return this.operation('joinPartitionedGroup', { groupId }, async () => {
      await this.joinGroupCreate(groupId, { weight });
      try {
        const partitioner = await Partitioner.create(this, groupId, partitions);
        this.partitioners.add(partitioner);
        return partitioner;
      } catch (error) {
        await this.leaveGroup(groupId).catch(() => undefined); // nothing half-done
        throw error;
      }
    });
  }

  async leavePartitionedGroup(partitioner: Partitioner): Promise<void> {
    try {
      await this.leaveGroup(partitioner.groupId);
    } finally {
      this.partitioners.delete(partitioner);
      await partitioner.stop();
    }
  }

  // ---- Guards and error translation -------------------------------------------

  /** Run a public operation: rejected unless started, tracked for stop(), backend errors translated. */
  private operation<T>(name: string, context: CallContext, work: () => Promise<T>): Promise<T> {
    if (this.state !== 'started') {
      return Promise.reject(new CoordinationError(`Cannot ${name}: coordinator ${this.memberId} is ${this.state}`));
    }
    return this.inFlight.track(this.backendCall(name, context, work));
  }

  private async backendCall<T>(name: string, context: CallContext, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw translateBackendError(error, this.backend, this.memberId, name, context);
    }
  }
}
