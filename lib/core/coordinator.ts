import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Observable, Subject } from 'rxjs';
import { Partitioner } from '../hashring/partitioner.js';
import { type Capabilities, decodeCapabilities, encodeCapabilities } from './capabilities.js';
import type { Characteristic } from './characteristic.js';
import { CoordinationError, GroupAlreadyExistError, GroupNotCreatedError } from './errors.js';
import {
  type CoordinationEvent,
  LeaderElected,
  LeadershipLost,
  LockLost,
  MemberJoinedGroup,
  MemberLeftGroup,
} from './events.js';
import type {
  CoordinatorLogger,
  CoordinatorOptions,
  MemberInfo,
  PartitionOptions,
  StartOptions,
  StoredMember,
  WatchCallback,
} from './coordinator-options.js';
import { Heart } from './heart.js';
import { assertCallback, assertId } from './ids.js';
import { Leaderships } from './leaderships.js';
import type { Lock, LockOwner } from './lock.js';
import { sleep, withTimeout } from './timeout.js';
import { WatchRegistry, type WatchKind } from './watch-registry.js';

const JOIN_CREATE_ATTEMPTS = 10;

/** One abort per stop, heard by every blocked acquire: lift Node's 10-listener warning. */
function newStopController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * The coordination API of tooz, written once for every driver. This class
 * owns the lifecycle guards, the joined groups, watchers and their cached
 * member sets, the election step, locks held, the heart and `events$`; a
 * driver subclass only says how its backend performs each `backend*` call.
 */
export abstract class Coordinator {
  abstract readonly characteristics: ReadonlySet<Characteristic>;
  /** True when `heartbeat()` must be called periodically (every built-in driver). */
  readonly requiresBeating: boolean = true;

  /** Unique per coordinator object, so two coordinators sharing a member id stay apart. */
  protected readonly instanceId = randomUUID();
  protected readonly logger: CoordinatorLogger;
  /** Set synchronously on entry to start()/stop(), so overlapping calls are refused. */
  private state: 'stopped' | 'starting' | 'started' | 'stopping' = 'stopped';
  private readonly joinedGroups = new Set<string>();
  private readonly leaderships = new Leaderships((groupId) =>
    this.events.next(new LeadershipLost(groupId, this.memberId)),
  );
  private readonly watches = new WatchRegistry();
  private readonly heldLocks = new Set<Lock>();
  private readonly partitioners = new Set<Partitioner>();
  private readonly events = new Subject<CoordinationEvent>();
  private readonly heart = new Heart(
    () => this.heartbeat(),
    (error) => this.logger.warn(`Heartbeat of ${this.memberId} failed, retrying in 1 s: ${String(error)}`),
  );
  /** Aborted at stop(): every blocked acquire gives up. */
  private stopping = newStopController();
  /** Watcher and election runs go one after another: overlapping runs would elect twice. */
  private watchQueue: Promise<unknown> = Promise.resolve();

  /** Every event this coordinator delivers, as it delivers it. */
  readonly events$: Observable<CoordinationEvent> = this.events.asObservable();

  protected constructor(
    readonly memberId: string,
    options: CoordinatorOptions = {},
  ) {
    assertId(memberId, 'memberId');
    this.logger = options.logger ?? console;
  }

  // ---- What a driver fills in -------------------------------------------

  /** Connect, then refresh this member's liveness once. */
  protected abstract backendStart(): Promise<void>;
  /** Drop this member's liveness and disconnect (groups and locks are already left). */
  protected abstract backendStop(): Promise<void>;
  /** Refresh this member's liveness. */
  protected abstract backendHeartbeat(): Promise<void>;
  /** ms until the next beat is due: half the shorter of the membership and lock timeouts. */
  protected abstract beatIntervalMs(): number;
  protected abstract backendCreateGroup(groupId: string): Promise<void>;
  protected abstract backendGetGroups(): Promise<string[]>;
  protected abstract backendJoinGroup(groupId: string, capabilities: Uint8Array): Promise<void>;
  protected abstract backendLeaveGroup(groupId: string): Promise<void>;
  protected abstract backendDeleteGroup(groupId: string): Promise<void>;
  /** Live members only; a member whose liveness lapsed is gone. */
  protected abstract backendGetMembers(groupId: string): Promise<Set<string>>;
  protected abstract backendGetMembersWithCapabilities(groupId: string): Promise<Map<string, Uint8Array>>;
  protected abstract backendGetMember(groupId: string, memberId: string): Promise<StoredMember>;
  protected abstract backendUpdateCapabilities(groupId: string, capabilities: Uint8Array): Promise<void>;
  protected abstract backendGetLeader(groupId: string): Promise<string | null>;
  /** Try once to lead `groupId`; true if this coordinator leads it afterwards. */
  protected abstract backendAcquireLeadership(groupId: string): Promise<boolean>;
  /** Extend this coordinator's leadership; false if it no longer leads. */
  protected abstract backendRefreshLeadership(groupId: string): Promise<boolean>;
  /** Give up leadership; true if it was held. */
  protected abstract backendReleaseLeadership(groupId: string): Promise<boolean>;
  protected abstract createLock(name: string, owner: LockOwner): Lock;
  /** ms a lock hold lives without a heartbeat; undefined when holds do not expire by time. */
  protected abstract get lockExpiryMs(): number | undefined;

  /** ms a leadership lives without a refresh; the lock expiry unless a driver says otherwise. */
  protected get leadershipExpiryMs(): number | undefined {
    return this.lockExpiryMs;
  }

  /**
   * For drivers: the backend session is gone (a dropped PostgreSQL
   * connection takes its advisory locks with it). Every hold and leadership
   * this coordinator had ends now, reported as `LockLost` / `LeadershipLost`.
   */
  protected connectionLost(): void {
    for (const lock of [...this.heldLocks]) lock.endHold(true);
    for (const groupId of this.leaderships.groups()) this.leaderships.lose(groupId);
  }

  // ---- Lifecycle ----------------------------------------------------------

  get isStarted(): boolean {
    return this.state === 'started';
  }

  async start(options: StartOptions = {}): Promise<void> {
    if (this.state !== 'stopped') throw new CoordinationError(`Coordinator ${this.memberId} is already ${this.state}`);
    this.state = 'starting';
    try {
      await this.backendStart();
    } catch (error) {
      this.state = 'stopped';
      throw error;
    }
    this.stopping = newStopController();
    this.joinedGroups.clear();
    this.state = 'started';
    if (options.startHeart && this.requiresBeating) this.heart.start();
  }

  /**
   * Give up every leadership at once (so another member's next election
   * wins), leave every joined group, release held locks and disconnect. Each
   * step runs even if one before it failed; the first failure is rethrown
   * once the coordinator is stopped.
   */
  async stop(): Promise<void> {
    if (this.state !== 'started') throw new CoordinationError(`Coordinator ${this.memberId} is not started`);
    this.state = 'stopping';
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    };
    this.stopping.abort(); // blocked acquires give up before held locks are released below
    try {
      await attempt(() => this.heart.stop());
      for (const partitioner of this.partitioners) await attempt(() => partitioner.stop());
      this.partitioners.clear();
      for (const groupId of this.leaderships.groups()) {
        await attempt(() => this.backendReleaseLeadership(groupId));
        this.leaderships.lose(groupId);
      }
      for (const groupId of this.joinedGroups) {
        await attempt(async () => {
          try {
            await this.backendLeaveGroup(groupId);
          } catch (error) {
            if (!(error instanceof CoordinationError)) throw error; // already gone: nothing to undo
          }
        });
      }
      this.joinedGroups.clear();
      for (const lock of [...this.heldLocks]) await attempt(() => lock.release());
    } finally {
      await attempt(() => this.backendStop());
      this.state = 'stopped';
    }
    if (failures.length > 0) throw failures[0];
  }

  /**
   * Refresh this member's liveness, every lock it holds and every leadership;
   * returns ms until the next beat is due. A failure in one refresh does not
   * skip the others; the first is rethrown after all ran.
   */
  async heartbeat(): Promise<number> {
    this.assertStarted('heartbeat');
    await this.backendHeartbeat();
    const results = await Promise.allSettled([
      ...[...this.heldLocks].map((lock) => lock.heartbeat()),
      ...this.leaderships.groups().map((groupId) => this.refreshLeadership(groupId)),
    ]);
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    return this.beatIntervalMs();
  }

  // ---- Groups and members -------------------------------------------------

  createGroup(groupId: string): Promise<void> {
    assertId(groupId, 'groupId');
    return this.started$('createGroup', () => this.backendCreateGroup(groupId));
  }

  getGroups(): Promise<string[]> {
    return this.started$('getGroups', () => this.backendGetGroups());
  }

  joinGroup(groupId: string, capabilities?: Capabilities): Promise<void> {
    assertId(groupId, 'groupId');
    return this.started$('joinGroup', async () => {
      // Encode before touching the backend, so a refused value writes nothing.
      await this.backendJoinGroup(groupId, encodeCapabilities(capabilities, groupId, this.memberId));
      await this.recordJoin(groupId);
    });
  }

  /**
   * Join, creating the group if needed. Another member may delete the group
   * between our create and join; retry at once with a short, growing pause
   * (tooz sleeps a full second here).
   */
  joinGroupCreate(groupId: string, capabilities?: Capabilities): Promise<void> {
    assertId(groupId, 'groupId');
    return this.started$('joinGroupCreate', async () => {
      const encoded = encodeCapabilities(capabilities, groupId, this.memberId);
      for (let attempt = 1; ; attempt++) {
        try {
          await this.backendJoinGroup(groupId, encoded);
          await this.recordJoin(groupId);
          return;
        } catch (error) {
          if (!(error instanceof GroupNotCreatedError) || attempt >= JOIN_CREATE_ATTEMPTS) throw error;
        }
        try {
          await this.backendCreateGroup(groupId);
        } catch (error) {
          if (!(error instanceof GroupAlreadyExistError)) throw error;
        }
        if (attempt > 1) await sleep(Math.min(10 * 2 ** attempt, 500) * (0.5 + Math.random()));
      }
    });
  }

  /** Note a join; one that lands after stop() began is undone, so stop leaves nothing behind. */
  private async recordJoin(groupId: string): Promise<void> {
    if (this.state === 'started') {
      this.joinedGroups.add(groupId);
      return;
    }
    await this.backendLeaveGroup(groupId).catch(() => undefined);
    throw new CoordinationError(`Cannot join ${groupId}: coordinator ${this.memberId} is ${this.state}`);
  }

  leaveGroup(groupId: string): Promise<void> {
    assertId(groupId, 'groupId');
    return this.started$('leaveGroup', async () => {
      await this.backendLeaveGroup(groupId);
      this.joinedGroups.delete(groupId);
    });
  }

  deleteGroup(groupId: string): Promise<void> {
    assertId(groupId, 'groupId');
    return this.started$('deleteGroup', async () => {
      await this.backendDeleteGroup(groupId);
      this.leaderships.lose(groupId); // the group's leadership went with it
    });
  }

  getMembers(groupId: string): Promise<Set<string>> {
    assertId(groupId, 'groupId');
    return this.started$('getMembers', () => this.backendGetMembers(groupId));
  }

  getMemberCapabilities(groupId: string, memberId: string): Promise<Capabilities> {
    assertId(groupId, 'groupId');
    assertId(memberId, 'memberId');
    return this.started$('getMemberCapabilities', async () => {
      const member = await this.backendGetMember(groupId, memberId);
      return decodeCapabilities(member.capabilities, groupId, memberId);
    });
  }

  getMembersWithCapabilities(groupId: string): Promise<Map<string, Capabilities>> {
    assertId(groupId, 'groupId');
    return this.started$('getMembersWithCapabilities', async () => {
      const raw = await this.backendGetMembersWithCapabilities(groupId);
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
    return this.started$('getMemberInfo', async () => {
      const member = await this.backendGetMember(groupId, memberId);
      return {
        capabilities: decodeCapabilities(member.capabilities, groupId, memberId),
        createdAt: member.createdAt,
        updatedAt: member.updatedAt,
      };
    });
  }

  updateCapabilities(groupId: string, capabilities: Capabilities): Promise<void> {
    assertId(groupId, 'groupId');
    return this.started$('updateCapabilities', () =>
      this.backendUpdateCapabilities(groupId, encodeCapabilities(capabilities, groupId, this.memberId)),
    );
  }

  // ---- Leadership -----------------------------------------------------------

  getLeader(groupId: string): Promise<string | null> {
    assertId(groupId, 'groupId');
    return this.started$('getLeader', () => this.backendGetLeader(groupId));
  }

  /** Give up leadership of `groupId` if held; others may win at their next `runWatchers()`. */
  standDownGroupLeader(groupId: string): Promise<boolean> {
    assertId(groupId, 'groupId');
    return this.started$('standDownGroupLeader', async () => {
      const held = await this.backendReleaseLeadership(groupId);
      this.leaderships.lose(groupId);
      return held;
    });
  }

  /**
   * Whether this coordinator leads `groupId`, from memory: true from its
   * election until it stands down, stops, or its lease runs out unrefreshed.
   */
  isLeaderOf(groupId: string): boolean {
    return this.leaderships.has(groupId);
  }

  /** The election step alone: try to win every group we run for. */
  runElectCoordinator(): Promise<unknown[]> {
    return this.started$('runElectCoordinator', () => this.serially(() => this.electionStep()));
  }

  private async electionStep(): Promise<unknown[]> {
    const results: unknown[] = [];
    for (const groupId of this.watches.electionGroups()) {
      // A leader confirms its hold here too, so a silent loss is noticed and contested at once.
      if (this.leaderships.has(groupId) && (await this.refreshLeadership(groupId))) continue;
      const since = performance.now();
      if (!(await this.backendAcquireLeadership(groupId))) continue;
      if (this.state !== 'started') {
        // stop() began while we were winning: give it straight back.
        await this.backendReleaseLeadership(groupId).catch(() => false);
        break;
      }
      this.leaderships.renew(groupId, since, this.leadershipExpiryMs);
      results.push(...(await this.deliver('elected', groupId, new LeaderElected(groupId, this.memberId))));
    }
    return results;
  }

  private async refreshLeadership(groupId: string): Promise<boolean> {
    const since = performance.now();
    const kept = await this.backendRefreshLeadership(groupId);
    if (kept) this.leaderships.renew(groupId, since, this.leadershipExpiryMs);
    else this.leaderships.lose(groupId);
    return kept;
  }

  // ---- Watchers -------------------------------------------------------------

  watchJoinGroup(groupId: string, callback: WatchCallback<MemberJoinedGroup>): Promise<void> {
    return this.watchMembers('join', groupId, callback);
  }

  watchLeaveGroup(groupId: string, callback: WatchCallback<MemberLeftGroup>): Promise<void> {
    return this.watchMembers('leave', groupId, callback);
  }

  unwatchJoinGroup(groupId: string, callback: WatchCallback<MemberJoinedGroup>): Promise<void> {
    return this.unwatch('join', groupId, callback);
  }

  unwatchLeaveGroup(groupId: string, callback: WatchCallback<MemberLeftGroup>): Promise<void> {
    return this.unwatch('leave', groupId, callback);
  }

  /** Run for leadership of `groupId`; `callback` fires each time this member becomes leader. */
  watchElectedAsLeader(groupId: string, callback: WatchCallback<LeaderElected>): Promise<void> {
    assertId(groupId, 'groupId');
    assertCallback(callback, 'callback');
    return this.started$('watchElectedAsLeader', async () => {
      await this.backendGetMembers(groupId); // GroupNotCreatedError before anything is registered
      this.watches.add('elected', groupId, callback);
    });
  }

  /** Withdraw `callback`; the candidacy ends with the last one (leadership held is kept until stand-down). */
  unwatchElectedAsLeader(groupId: string, callback: WatchCallback<LeaderElected>): Promise<void> {
    return this.unwatch('elected', groupId, callback);
  }

  /** How many callbacks of a kind are registered for `groupId` (for introspection and tests). */
  watcherCount(kind: WatchKind, groupId: string): number {
    return this.watches.count(kind, groupId);
  }

  private watchMembers(kind: 'join' | 'leave', groupId: string, callback: Function): Promise<void> {
    assertId(groupId, 'groupId');
    assertCallback(callback, 'callback');
    return this.started$(kind === 'join' ? 'watchJoinGroup' : 'watchLeaveGroup', async () => {
      // The members present now are the baseline: they never produce join events.
      if (!this.watches.hasBaseline(groupId)) {
        this.watches.setBaseline(groupId, await this.backendGetMembers(groupId));
      }
      this.watches.add(kind, groupId, callback);
    });
  }

  private unwatch(kind: WatchKind, groupId: string, callback: Function): Promise<void> {
    assertId(groupId, 'groupId');
    assertCallback(callback, 'callback');
    try {
      this.watches.remove(kind, groupId, callback);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
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
    return this.started$('runWatchers', () =>
      withTimeout(
        this.serially(() => this.watchStep()),
        timeoutMs,
        'runWatchers',
      ),
    );
  }

  /** Run `step` after every run already queued (a run that timed out still finishes first). */
  private serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.watchQueue.then(step);
    this.watchQueue = run.catch(() => undefined);
    return run;
  }

  private async watchStep(): Promise<unknown[]> {
    const results: unknown[] = [];
    const failures: unknown[] = [];
    const collect = async (step: () => Promise<unknown[]>) => {
      try {
        results.push(...(await step()));
      } catch (error) {
        failures.push(error);
      }
    };
    for (const groupId of this.watches.memberWatchedGroups()) {
      let members: Set<string>;
      try {
        members = await this.backendGetMembers(groupId);
      } catch (error) {
        if (!(error instanceof GroupNotCreatedError)) throw error;
        members = new Set(); // a deleted group reads as empty: its members are reported as left
      }
      if (!members.has(this.memberId)) this.joinedGroups.delete(groupId); // booted out
      const { joined, left } = this.watches.diff(groupId, members);
      this.watches.setBaseline(groupId, members);
      for (const memberId of joined)
        await collect(() => this.deliver('join', groupId, new MemberJoinedGroup(groupId, memberId)));
      for (const memberId of left)
        await collect(() => this.deliver('leave', groupId, new MemberLeftGroup(groupId, memberId)));
    }
    await collect(() => this.electionStep());
    if (failures.length > 0) throw failures[0];
    return results;
  }

  /** Emit `event` on `events$`, then run the callbacks registered for it. */
  private deliver(kind: WatchKind, groupId: string, event: CoordinationEvent): Promise<unknown[]> {
    this.events.next(event);
    return this.watches.run(kind, groupId, event);
  }

  /** Groups this coordinator has joined and not left (nor been booted out of, as far as it has seen). */
  get groups(): ReadonlySet<string> {
    return this.joinedGroups;
  }

  // ---- Locks and partitions --------------------------------------------------

  getLock(name: string): Lock {
    assertId(name, 'lock name');
    return this.createLock(name, this.lockOwner);
  }

  joinPartitionedGroup(groupId: string, options: PartitionOptions = {}): Promise<Partitioner> {
    assertId(groupId, 'groupId');
    const { weight = 1, partitions = 32 } = options;
    return this.started$('joinPartitionedGroup', async () => {
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

  private lockOwnerView: LockOwner | undefined;

  /** The narrow view of this coordinator that its locks get. */
  private get lockOwner(): LockOwner {
    const coordinator = this;
    this.lockOwnerView ??= {
      get memberId() {
        return coordinator.memberId;
      },
      get lockExpiryMs() {
        return coordinator.lockExpiryMs;
      },
      get stopSignal() {
        return coordinator.stopping.signal;
      },
      get accepting() {
        return coordinator.state === 'started';
      },
      assertStarted: (operation) => this.assertStarted(operation),
      holdStarted: (lock) => {
        this.heldLocks.add(lock);
      },
      holdEnded: (lock, lost) => {
        this.heldLocks.delete(lock);
        if (lost) this.events.next(new LockLost(lock.name, this.memberId));
      },
    };
    return this.lockOwnerView;
  }

  // ---- Guards -------------------------------------------------------------

  assertStarted(operation: string): void {
    if (this.state !== 'started') {
      throw new CoordinationError(`Cannot ${operation}: coordinator ${this.memberId} is ${this.state}`);
    }
  }

  /** Run `work` if started; otherwise reject (only bad arguments throw synchronously). */
  private async started$<T>(operation: string, work: () => Promise<T>): Promise<T> {
    this.assertStarted(operation);
    return work();
  }
}
