import { Characteristic } from '../../core/characteristic.js';
import { Coordinator } from '../../core/coordinator.js';
import type { CoordinatorOptions, StoredMember } from '../../core/coordinator-options.js';
import type { Lock, LockOwner } from '../../core/lock.js';
import { assertKnownOptions, durationOption, queryOptions } from '../../core/url-options.js';
import { type MemoryBackend, memoryBackend } from './memory-backend.js';
import { MemoryLock } from './memory-lock.js';

const CHARACTERISTICS: ReadonlySet<Characteristic> = new Set([
  Characteristic.DistributedAcrossThreads,
  Characteristic.Linearizable,
  Characteristic.SameViewAcrossClients,
]);

/** tooz's Redis defaults, so moving from `memory://` to `redis://` changes no timing. */
export const DEFAULT_MEMBERSHIP_TIMEOUT_MS = 30_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/**
 * `memory://[name]`: the embedded driver. Many coordinators in one process
 * share a backend per name; expiry behaves as on the network drivers.
 */
export class MemoryCoordinator extends Coordinator {
  readonly characteristics = CHARACTERISTICS;
  readonly membershipTimeoutMs: number;
  readonly lockTimeoutMs: number;
  private readonly backend: MemoryBackend;

  constructor(url: URL, memberId: string, options: CoordinatorOptions = {}) {
    super(memberId, options);
    const query = queryOptions(url);
    assertKnownOptions(query, ['timeout', 'lock_timeout'], url);
    this.membershipTimeoutMs = durationOption(
      query,
      'timeout',
      options.membershipTimeoutMs,
      DEFAULT_MEMBERSHIP_TIMEOUT_MS,
    );
    this.lockTimeoutMs = durationOption(query, 'lock_timeout', options.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS);
    this.backend = memoryBackend(url.host + url.pathname.replace(/^\/+$/, ''));
  }

  protected async backendStart(): Promise<void> {
    this.backend.beat(this.memberId, this.membershipTimeoutMs);
  }

  protected async backendStop(): Promise<void> {
    this.backend.forget(this.memberId);
  }

  protected async backendHeartbeat(): Promise<void> {
    this.backend.beat(this.memberId, this.membershipTimeoutMs);
  }

  protected beatIntervalMs(): number {
    return Math.min(this.membershipTimeoutMs, this.lockTimeoutMs) / 2;
  }

  protected async backendCreateGroup(groupId: string): Promise<void> {
    this.backend.createGroup(groupId);
  }

  protected async backendGetGroups(): Promise<string[]> {
    return this.backend.groupIds();
  }

  protected async backendJoinGroup(groupId: string, capabilities: Uint8Array): Promise<void> {
    this.backend.join(groupId, this.memberId, capabilities);
  }

  protected async backendLeaveGroup(groupId: string): Promise<void> {
    this.backend.leave(groupId, this.memberId);
  }

  protected async backendDeleteGroup(groupId: string): Promise<void> {
    this.backend.deleteGroup(groupId);
  }

  protected async backendGetMembers(groupId: string): Promise<Set<string>> {
    return new Set(this.backend.members(groupId).keys());
  }

  protected async backendGetMembersWithCapabilities(groupId: string): Promise<Map<string, Uint8Array>> {
    return new Map([...this.backend.members(groupId)].map(([id, member]) => [id, member.capabilities]));
  }

  protected async backendGetMember(groupId: string, memberId: string): Promise<StoredMember> {
    return { ...this.backend.member(groupId, memberId) };
  }

  protected async backendUpdateCapabilities(groupId: string, capabilities: Uint8Array): Promise<void> {
    this.backend.updateCapabilities(groupId, this.memberId, capabilities);
  }

  protected async backendGetLeader(groupId: string): Promise<string | null> {
    return this.backend.leader(groupId);
  }

  protected async backendAcquireLeadership(groupId: string): Promise<boolean> {
    return this.backend.lead(groupId, this.memberId, this.instanceId, this.lockTimeoutMs);
  }

  protected async backendRefreshLeadership(groupId: string): Promise<boolean> {
    return this.backend.refreshLead(groupId, this.instanceId, this.lockTimeoutMs);
  }

  protected async backendReleaseLeadership(groupId: string): Promise<boolean> {
    return this.backend.standDown(groupId, this.instanceId);
  }

  protected createLock(name: string, owner: LockOwner): Lock {
    return new MemoryLock(name, owner, this.backend.locks, this.lockTimeoutMs);
  }

  protected get lockExpiryMs(): number {
    return this.lockTimeoutMs;
  }
}
