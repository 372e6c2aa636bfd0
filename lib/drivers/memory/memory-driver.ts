import { randomUUID } from 'node:crypto';
import type {
  Backend,
  BackendEvents,
  BeatReport,
  BeatRequest,
  Grant,
  HoldRef,
  LockRequest,
  SessionSnapshot,
  WaiterState,
  Waiting,
} from '../../core/backend.js';
import { Characteristic } from '../../core/characteristic.js';
import type { StoredMember } from '../../core/coordinator-options.js';
import type { MemoryStore } from './memory-store.js';

export interface MemoryTimeouts {
  membershipTimeoutMs: number;
  lockTimeoutMs: number;
}

/**
 * The driver port on a `MemoryStore`: the worked example of `docs/drivers.md`.
 * Each call is answered at once; batches are loops here, where a network
 * driver sends one round trip.
 */
export class MemoryDriver implements Backend {
  /** One process, one store: every client sees the same linearizable view (docs/drivers.md). */
  readonly characteristics = [
    Characteristic.DistributedAcrossThreads,
    Characteristic.Linearizable,
    Characteristic.SameViewAcrossClients,
  ];
  readonly leaseMs: number;
  readonly beatIntervalMs: number;
  /** Grants are pushed as they happen; a look each second only covers a push a test swallowed. */
  readonly waiterRecheckMs = 1_000;
  /** This connection's id: leaderships and pushes belong to it, not to the member id. */
  private sessionId = randomUUID();
  private events: BackendEvents | undefined;

  constructor(
    private readonly store: MemoryStore,
    private readonly memberId: string,
    private readonly timeouts: MemoryTimeouts,
  ) {
    this.leaseMs = timeouts.lockTimeoutMs;
    this.beatIntervalMs = Math.min(timeouts.membershipTimeoutMs, timeouts.lockTimeoutMs) / 2;
  }

  async connect(events: BackendEvents): Promise<void> {
    this.sessionId = randomUUID();
    this.events = events;
    this.store.connect(this.sessionId, this.memberId, events);
    this.store.beat(this.memberId, this.timeouts.membershipTimeoutMs);
  }

  async disconnect(request: SessionSnapshot): Promise<void> {
    const failures: unknown[] = [];
    const attempt = (step: () => unknown) => {
      try {
        step();
      } catch (error) {
        failures.push(error);
      }
    };
    for (const groupId of request.leaderships) {
      attempt(() => this.store.hasGroup(groupId) && this.store.standDown(groupId, this.sessionId));
    }
    for (const groupId of request.groups.keys()) {
      // Already gone (evicted, left through a twin, deleted): nothing to undo.
      attempt(() => this.store.members(groupId).has(this.memberId) && this.store.leave(groupId, this.memberId));
    }
    for (const ref of request.holds) this.store.locks.release(ref);
    for (const ref of request.waiters) this.store.locks.withdraw(ref);
    this.store.disconnect(this.sessionId);
    this.events = undefined;
    if (failures.length > 0) throw failures[0];
  }

  async ping(): Promise<void> {}

  async beat(request: BeatRequest): Promise<BeatReport> {
    const { locks } = this.store;
    for (const ref of request.abandonedHolds) locks.release(ref);
    for (const groupId of request.abandonedLeaderships) {
      if (this.store.hasGroup(groupId)) this.store.standDown(groupId, this.sessionId);
    }
    const lapsed = request.liveness && this.store.beat(this.memberId, this.timeouts.membershipTimeoutMs);
    const report: BeatReport = {
      lapsed,
      missingGroups: [],
      lostHolds: [],
      lostLeaderships: [],
      waiters: await this.look(request.waiters),
    };
    for (const groupId of request.groups.keys()) {
      if (!this.store.hasGroup(groupId) || !this.store.members(groupId).has(this.memberId)) {
        report.missingGroups.push(groupId);
      }
    }
    for (const ref of request.holds) {
      if (!locks.refresh(ref, this.leaseMs)) report.lostHolds.push(ref.holder);
    }
    for (const groupId of request.leaderships) {
      if (!this.store.refreshLead(groupId, this.sessionId, this.leaseMs)) report.lostLeaderships.push(groupId);
    }
    return report;
  }

  async createGroup(groupId: string): Promise<void> {
    this.store.createGroup(groupId);
  }

  async getGroups(): Promise<string[]> {
    return this.store.groupIds();
  }

  async joinGroup(groupId: string, capabilities: Uint8Array): Promise<void> {
    this.store.join(groupId, this.memberId, capabilities);
  }

  async leaveGroup(groupId: string): Promise<void> {
    this.store.leave(groupId, this.memberId);
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.store.deleteGroup(groupId);
  }

  async getMembers(groupIds: readonly string[]): Promise<Map<string, Set<string> | null>> {
    return new Map(
      groupIds.map((groupId) => [
        groupId,
        this.store.hasGroup(groupId) ? new Set(this.store.members(groupId).keys()) : null,
      ]),
    );
  }

  async getMembersWithCapabilities(groupId: string): Promise<Map<string, Uint8Array>> {
    return new Map([...this.store.members(groupId)].map(([id, member]) => [id, member.capabilities]));
  }

  async getMember(groupId: string, memberId: string): Promise<StoredMember> {
    return { ...this.store.member(groupId, memberId) };
  }

  async updateCapabilities(groupId: string, capabilities: Uint8Array): Promise<void> {
    this.store.updateCapabilities(groupId, this.memberId, capabilities);
  }

  async getLeader(groupId: string): Promise<string | null> {
    return this.store.leader(groupId);
  }

  async elect(groupIds: readonly string[]): Promise<Set<string>> {
    return new Set(groupIds.filter((groupId) => this.store.lead(groupId, this.memberId, this.sessionId, this.leaseMs)));
  }

  async standDown(groupId: string): Promise<boolean> {
    return this.store.standDown(groupId, this.sessionId);
  }

  async watch(groupIds: ReadonlySet<string>): Promise<void> {
    this.store.watch(this.sessionId, groupIds);
  }

  async acquire(request: LockRequest): Promise<Grant | Waiting | null> {
    const events = this.events;
    const ref: HoldRef = { name: request.name, holder: request.holder, shared: request.shared };
    const outcome = this.store.locks.acquire(
      {
        ref,
        expiryMs: this.leaseMs,
        granted: () => events?.mayBeGranted([ref.holder]),
        broken: () => events?.holdLost(ref.holder),
      },
      request.wait,
    );
    if (outcome === 'queued') return { waiting: true };
    return outcome === null ? null : this.grant(outcome);
  }

  /** A grant's lease is renewed from now: the core counts it from before this call. */
  async look(waiters: readonly HoldRef[]): Promise<Map<string, WaiterState>> {
    const { locks } = this.store;
    const answers = new Map<string, WaiterState>();
    for (const ref of waiters) {
      const fence = locks.refresh(ref, this.leaseMs) ? locks.heldFence(ref) : null;
      if (fence !== null) answers.set(ref.holder, this.grant(fence));
      else answers.set(ref.holder, locks.queued(ref) ? { waiting: true } : 'lapsed');
    }
    return answers;
  }

  async withdraw(ref: HoldRef): Promise<Grant | null> {
    this.store.locks.withdraw(ref);
    const fence = this.store.locks.heldFence(ref);
    return fence === null ? null : this.grant(fence);
  }

  async release(ref: HoldRef): Promise<boolean> {
    return this.store.locks.release(ref);
  }

  async isHeld(ref: HoldRef): Promise<boolean> {
    return this.store.locks.heldFence(ref) !== null;
  }

  async breakLock(name: string): Promise<boolean> {
    return this.store.locks.break(name);
  }

  private grant(fence: bigint): Grant {
    return { fence, leaseMs: this.leaseMs };
  }
}
