import { performance } from 'node:perf_hooks';
import type { StoredMember } from '../../core/coordinator-options.js';
import {
  GroupAlreadyExistError,
  GroupNotCreatedError,
  GroupNotEmptyError,
  MemberAlreadyExistError,
  MemberNotJoinedError,
} from '../../core/errors.js';
import { LockTable } from './lock-table.js';

interface Leadership {
  memberId: string;
  /** The coordinator object that leads, so two coordinators sharing a member id stay apart. */
  instanceId: string;
  expiresAt: number;
}

/**
 * One process-wide store behind every `memory://<name>` coordinator. Liveness
 * is kept per member id with an expiry, as tooz's Redis beat keys are, and
 * judged on every read: a member whose expiry passed is gone from every group.
 */
export class MemoryBackend {
  private readonly groups = new Map<string, Map<string, StoredMember>>();
  private readonly liveUntil = new Map<string, number>();
  private readonly leaders = new Map<string, Leadership>();
  private beats = 0;
  readonly locks = new LockTable();

  beat(memberId: string, timeoutMs: number): void {
    // A member whose liveness lapsed was evicted; a late beat must not bring its memberships back.
    if (!this.isAlive(memberId)) this.evict(memberId);
    this.liveUntil.set(memberId, performance.now() + timeoutMs);
    if (++this.beats % 1024 === 0) this.forgetTheDead();
  }

  /** Members that died without stop() would otherwise stay in `liveUntil` for ever. */
  private forgetTheDead(): void {
    for (const memberId of this.liveUntil.keys()) {
      if (!this.isAlive(memberId)) {
        this.evict(memberId);
        this.liveUntil.delete(memberId);
      }
    }
  }

  forget(memberId: string): void {
    this.liveUntil.delete(memberId);
  }

  createGroup(groupId: string): void {
    if (this.groups.has(groupId)) throw new GroupAlreadyExistError(groupId);
    this.groups.set(groupId, new Map());
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  join(groupId: string, memberId: string, capabilities: Uint8Array): void {
    const members = this.members(groupId);
    if (members.has(memberId)) throw new MemberAlreadyExistError(groupId, memberId);
    const now = new Date();
    members.set(memberId, { capabilities, createdAt: now, updatedAt: now });
  }

  leave(groupId: string, memberId: string): void {
    if (!this.members(groupId).delete(memberId)) throw new MemberNotJoinedError(groupId, memberId);
  }

  deleteGroup(groupId: string): void {
    if (this.members(groupId).size > 0) throw new GroupNotEmptyError(groupId);
    this.groups.delete(groupId);
    this.leaders.delete(groupId);
  }

  /** The live members of `groupId` (dead ones are pruned as they are seen). */
  members(groupId: string): Map<string, StoredMember> {
    const members = this.groups.get(groupId);
    if (!members) throw new GroupNotCreatedError(groupId);
    for (const memberId of members.keys()) if (!this.isAlive(memberId)) members.delete(memberId);
    return members;
  }

  member(groupId: string, memberId: string): StoredMember {
    const member = this.members(groupId).get(memberId);
    if (!member) throw new MemberNotJoinedError(groupId, memberId);
    return member;
  }

  updateCapabilities(groupId: string, memberId: string, capabilities: Uint8Array): void {
    const member = this.member(groupId, memberId);
    member.capabilities = capabilities;
    member.updatedAt = new Date();
  }

  leader(groupId: string): string | null {
    this.members(groupId);
    return this.currentLeadership(groupId)?.memberId ?? null;
  }

  /** Take or keep leadership; false while another coordinator's leadership is live. */
  lead(groupId: string, memberId: string, instanceId: string, timeoutMs: number): boolean {
    if (!this.groups.has(groupId)) return false;
    const current = this.currentLeadership(groupId);
    if (current && current.instanceId !== instanceId) return false;
    this.leaders.set(groupId, { memberId, instanceId, expiresAt: performance.now() + timeoutMs });
    return true;
  }

  refreshLead(groupId: string, instanceId: string, timeoutMs: number): boolean {
    const current = this.currentLeadership(groupId);
    if (!current || current.instanceId !== instanceId) return false;
    current.expiresAt = performance.now() + timeoutMs;
    return true;
  }

  standDown(groupId: string, instanceId: string): boolean {
    this.members(groupId);
    const current = this.currentLeadership(groupId);
    if (!current || current.instanceId !== instanceId) return false;
    this.leaders.delete(groupId);
    return true;
  }

  private currentLeadership(groupId: string): Leadership | undefined {
    const current = this.leaders.get(groupId);
    if (current && current.expiresAt <= performance.now()) {
      this.leaders.delete(groupId);
      return undefined;
    }
    return current;
  }

  private isAlive(memberId: string): boolean {
    return (this.liveUntil.get(memberId) ?? -Infinity) > performance.now();
  }

  private evict(memberId: string): void {
    for (const members of this.groups.values()) members.delete(memberId);
  }
}

const backends = new Map<string, MemoryBackend>();

/** Every coordinator made with the same `memory://<name>` in this process shares one backend. */
export function memoryBackend(name: string): MemoryBackend {
  let backend = backends.get(name);
  if (!backend) {
    backend = new MemoryBackend();
    backends.set(name, backend);
  }
  return backend;
}
