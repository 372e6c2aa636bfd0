import { assertWeight } from '../hashring/hash-ring.js';
import { Partitioner } from '../hashring/partitioner.js';
import { type Capabilities, decodeCapabilities, encodeCapabilities } from './capabilities.js';
import { CoordinationError, GroupAlreadyExistError, GroupNotCreatedError, MemberNotJoinedError } from '../errors.js';
import type { LeaderElected, MemberJoinedGroup, MemberLeftGroup } from './events.js';
import type { Backend } from './backend.js';
import type { CoordinatorOptions, MemberInfo, PartitionOptions, WatchCallback } from './coordinator-options.js';
import { CoordinatorLifecycle } from './coordinator-lifecycle.js';
import { assertCallback, assertId } from './ids.js';
import { Lock } from './lock.js';
import { sleep } from './timeout.js';
import type { WatchKind } from './watch-registry.js';

const JOIN_CREATE_ATTEMPTS = 10;

/**
 * The coordination API of tooz, written once for every driver: groups,
 * members and capabilities, leadership, watchers, locks and partitioned
 * groups. The lifecycle and the session beneath it are in
 * `CoordinatorLifecycle`. A driver is a `Backend` and nothing else: the
 * constructor (or `coordinatorFor`) takes one that says how its backend
 * performs each batch (`docs/drivers.md`).
 */
export class Coordinator extends CoordinatorLifecycle {
  constructor(memberId: string, options: CoordinatorOptions, backend: Backend) {
    super(memberId, options, backend);
  }

  // ---- Groups and members -------------------------------------------------

  createGroup(groupId: string): Promise<void> {
    assertId(groupId, 'groupId');
    return this.operations.run('createGroup', { groupId }, () => this.backend.createGroup(groupId));
  }

  getGroups(): Promise<string[]> {
    return this.operations.run('getGroups', {}, () => this.backend.getGroups());
  }

  joinGroup(groupId: string, capabilities?: Capabilities): Promise<void> {
    assertId(groupId, 'groupId');
    return this.operations.run('joinGroup', { groupId }, async () => {
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
    return this.operations.run('joinGroupCreate', { groupId }, async () => {
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
    if (this.operations.state === 'started') {
      this.session.groups.set(groupId, capabilities);
      return;
    }
    await this.backend.leaveGroup(groupId).catch(() => undefined);
    throw new CoordinationError(`Cannot join ${groupId}: coordinator ${this.memberId} is ${this.operations.state}`);
  }

  leaveGroup(groupId: string): Promise<void> {
    assertId(groupId, 'groupId');
    return this.operations.run('leaveGroup', { groupId }, async () => {
      try {
        await this.backend.leaveGroup(groupId);
      } catch (error) {
        // Already out (evicted, not noticed yet) or the group is gone: left all the same, never rejoined.
        if (error instanceof MemberNotJoinedError || error instanceof GroupNotCreatedError) {
          this.session.groups.delete(groupId);
        }
        throw error;
      }
      this.session.groups.delete(groupId);
    });
  }

  deleteGroup(groupId: string): Promise<void> {
    assertId(groupId, 'groupId');
    return this.operations.run('deleteGroup', { groupId }, async () => {
      await this.backend.deleteGroup(groupId);
      this.session.loseLeadership(groupId); // the group's leadership went with it
    });
  }

  getMembers(groupId: string): Promise<Set<string>> {
    assertId(groupId, 'groupId');
    return this.operations.run('getMembers', { groupId }, async () => {
      const members = (await this.backend.getMembers([groupId])).get(groupId);
      if (!members) throw new GroupNotCreatedError(groupId);
      return members;
    });
  }

  getMemberCapabilities(groupId: string, memberId: string): Promise<Capabilities> {
    assertId(groupId, 'groupId');
    assertId(memberId, 'memberId');
    return this.operations.run('getMemberCapabilities', { groupId }, async () => {
      const member = await this.backend.getMember(groupId, memberId);
      return decodeCapabilities(member.capabilities, groupId, memberId);
    });
  }

  getMembersWithCapabilities(groupId: string): Promise<Map<string, Capabilities>> {
    assertId(groupId, 'groupId');
    return this.operations.run('getMembersWithCapabilities', { groupId }, async () => {
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
    return this.operations.run('getMemberInfo', { groupId }, async () => {
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
    return this.operations.run('updateCapabilities', { groupId }, async () => {
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
    return this.operations.run('getLeader', { groupId }, () => this.backend.getLeader(groupId));
  }

  /** Give up leadership of `groupId` if held; others may win at their next `runWatchers()`. */
  standDownGroupLeader(groupId: string): Promise<boolean> {
    assertId(groupId, 'groupId');
    return this.operations.run('standDownGroupLeader', { groupId }, async () => {
      let held: boolean;
      try {
        held = await this.backend.standDown(groupId);
      } catch (error) {
        // Cut half way, it may have stood down and another may lead already: believe nothing; the next
        // beat gives it up in case it did not (docs/semantics.md, "Requests cut half way").
        if (this.session.loseLeadership(groupId)) this.session.abandonLeadership(groupId);
        throw error;
      }
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
    return this.operations.run(operation, { groupId }, () =>
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
    return new Lock(name, this.lockParts);
  }

  joinPartitionedGroup(groupId: string, options: PartitionOptions = {}): Promise<Partitioner> {
    assertId(groupId, 'groupId');
    const { weight = 1, partitions = 32 } = options;
    assertWeight(weight);
    if (!Number.isSafeInteger(partitions) || partitions < 1) {
      throw new TypeError(`partitions for group ${groupId} must be a positive integer, got ${String(partitions)}`);
    }
    return this.operations.run('joinPartitionedGroup', { groupId }, async () => {
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
}

/**
 * The one line that turns a driver's `Backend` into the `Coordinator` a
 * `registerDriver` factory returns (docs/drivers.md#writing-a-driver).
 */
export function coordinatorFor(backend: Backend, memberId: string, options: CoordinatorOptions = {}): Coordinator {
  return new Coordinator(memberId, options, backend);
}
