import { performance } from 'node:perf_hooks';
import type { BackendEvents } from '../../core/backend.js';
import type { StoredMember } from '../../core/coordinator-options.js';
import {
  GroupAlreadyExistError,
  GroupNotCreatedError,
  GroupNotEmptyError,
  MemberAlreadyExistError,
  MemberNotJoinedError,
} from '../../errors.js';
import { LockTable } from './lock-table.js';

interface Leadership {
  memberId: string;
  /** The session that leads, so two coordinators sharing a member id stay apart. */
  sessionId: string;
  expiresAt: number;
}

/** A connected coordinator, for pushes. */
interface Connected {
  memberId: string;
  events: BackendEvents;
  watched: ReadonlySet<string>;
}

/**
 * One process-wide store behind every `memory://<name>` coordinator. Liveness
 * is kept per member id with an expiry, as tooz's Redis beat keys are, and
 * judged on every read: a member whose expiry passed is gone from every
 * group. Changes are pushed to the connected sessions that watch them, as a
 * network backend's pub/sub would.
 */
export class MemoryStore {
  private readonly groups = new Map<string, Map<string, StoredMember>>();
  private readonly liveUntil = new Map<string, number>();
  private readonly leaders = new Map<string, Leadership>();
  private readonly sessions = new Map<string, Connected>();
  private beats = 0;
  readonly locks = new LockTable();

  connect(sessionId: string, memberId: string, events: BackendEvents): void {
    this.sessions.set(sessionId, { memberId, events, watched: new Set() });
  }

  /** The session is gone; the member's liveness goes with its last session (a twin keeps it alive). */
  disconnect(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    if (!session) return;
    const twin = [...this.sessions.values()].some((other) => other.memberId === session.memberId);
    if (!twin) this.liveUntil.delete(session.memberId);
  }

  watch(sessionId: string, groupIds: ReadonlySet<string>): void {
    const session = this.sessions.get(sessionId);
    if (session) session.watched = new Set(groupIds);
  }

  /** Refresh liveness; true if it had lapsed (the member was evicted from every group). */
  beat(memberId: string, timeoutMs: number): boolean {
    const lapsed = !this.isAlive(memberId);
    // A late beat must not bring evicted memberships back: the member rejoins explicitly.
    if (lapsed) this.evict(memberId);
    this.liveUntil.set(memberId, performance.now() + timeoutMs);
    if (++this.beats % 1024 === 0) this.forgetTheDead();
    return lapsed;
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

  createGroup(groupId: string): void {
    if (this.groups.has(groupId)) throw new GroupAlreadyExistError(groupId);
    this.groups.set(groupId, new Map());
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  hasGroup(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  join(groupId: string, memberId: string, capabilities: Uint8Array): void {
    const members = this.members(groupId);
    if (members.has(memberId)) throw new MemberAlreadyExistError(groupId, memberId);
    const now = new Date();
    members.set(memberId, { capabilities, createdAt: now, updatedAt: now });
    this.changed(groupId);
  }

  leave(groupId: string, memberId: string): void {
    if (!this.members(groupId).delete(memberId)) throw new MemberNotJoinedError(groupId, memberId);
    this.changed(groupId);
  }

  deleteGroup(groupId: string): void {
    if (this.members(groupId).size > 0) throw new GroupNotEmptyError(groupId);
    this.groups.delete(groupId);
    const leader = this.leaders.get(groupId);
    this.leaders.delete(groupId);
    if (leader) this.sessions.get(leader.sessionId)?.events.leadershipLost(groupId);
    this.changed(groupId);
  }

  /**
   * The live members of `groupId`. Dead ones are pruned as they are seen, and
   * the prune is pushed to the watchers, as Redis's reaper and PostgreSQL's
   * garbage collection push theirs: every session hears of it, not only the one that read.
   */
  members(groupId: string): Map<string, StoredMember> {
    const members = this.groups.get(groupId);
    if (!members) throw new GroupNotCreatedError(groupId);
    let pruned = false;
    for (const memberId of members.keys()) {
      if (this.isAlive(memberId)) continue;
      members.delete(memberId);
      pruned = true;
    }
    if (pruned) this.changed(groupId);
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

  /** Take or keep leadership; false while another session's leadership is live. */
  lead(groupId: string, memberId: string, sessionId: string, timeoutMs: number): boolean {
    if (!this.groups.has(groupId)) return false;
    const current = this.currentLeadership(groupId);
    if (current && current.sessionId !== sessionId) return false;
    this.leaders.set(groupId, { memberId, sessionId, expiresAt: performance.now() + timeoutMs });
    return true;
  }

  refreshLead(groupId: string, sessionId: string, timeoutMs: number): boolean {
    const current = this.currentLeadership(groupId);
    if (!current || current.sessionId !== sessionId) return false;
    current.expiresAt = performance.now() + timeoutMs;
    return true;
  }

  standDown(groupId: string, sessionId: string): boolean {
    this.members(groupId);
    const current = this.currentLeadership(groupId);
    if (!current || current.sessionId !== sessionId) return false;
    this.leaders.delete(groupId);
    for (const session of this.sessions.values()) {
      if (session.watched.has(groupId)) session.events.leaderGone(groupId);
    }
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
    for (const [groupId, members] of this.groups) if (members.delete(memberId)) this.changed(groupId);
  }

  /** Tell the sessions watching `groupId` that its members changed. */
  private changed(groupId: string): void {
    for (const session of this.sessions.values()) {
      if (session.watched.has(groupId)) session.events.membersChanged(groupId);
    }
  }
}

const stores = new Map<string, MemoryStore>();

/** Every coordinator made with the same `memory://<name>` in this process shares one store. */
export function memoryStore(name: string): MemoryStore {
  let store = stores.get(name);
  if (!store) {
    store = new MemoryStore();
    stores.set(name, store);
  }
  return store;
}
