import type { Characteristic } from './characteristic.js';
import type { StoredMember } from './coordinator-options.js';

/**
 * The driver port: what a driver fills in so that `Coordinator` works on its
 * backend. The core keeps this member's session (joined groups and their
 * capabilities, holds, queued waiters, leaderships, watched groups) and hands
 * the driver whole batches, so a network driver answers each in one round
 * trip. `docs/drivers.md` walks through it with `memory://` as the example.
 */
export interface Backend {
  /** What this backend guarantees (docs/drivers.md's table); `getCoordinator` checks a caller's requirements against it. */
  readonly characteristics: Iterable<Characteristic>;
  /**
   * ms a hold or leadership is believed without a beat: how long it lasts in
   * the backend, or (PostgreSQL, where it ends with the session) how long the
   * session may go unheard from; undefined for ever. The core counts it from
   * before the request that set it, so its belief never outlives the backend's.
   */
  readonly leaseMs: number | undefined;
  /** ms until the next beat is due: at most half the shorter of the membership and lease timeouts. */
  readonly beatIntervalMs: number;
  /**
   * Set when the backend pushes `membersChanged`: `runWatchers()` then reads
   * only the groups a push named, and every watched group once `fallbackMs`
   * passed since the last full read (a push can be missed). Without it,
   * every run reads every watched group (one batched call).
   */
  readonly membershipPushes?: { fallbackMs: number };
  /** The driver's per-command time limit, for `OperationTimedOutError`. */
  readonly commandTimeoutMs?: number;
  /** Credentials to scrub from any message built from a backend error. */
  readonly secrets?: readonly string[];
  /**
   * ms between looks (`look()`) while a request waits in a queue: how long a
   * waiter may miss a grant nobody pushed (a holder that died, say).
   */
  readonly waiterRecheckMs: number;

  /** Connect and make this member live; from now on, report to `events`. */
  connect(events: BackendEvents): Promise<void>;
  /**
   * Give up everything in `request` (leaderships first, then memberships,
   * holds and queued waiters), drop this session's liveness and disconnect.
   * Do every part even if one fails; reject with the first failure after.
   */
  disconnect(request: SessionSnapshot): Promise<void>;
  /** The cheapest round trip that proves the backend answers (health checks). */
  ping(): Promise<void>;
  /** Refresh everything in `request` together, one round trip where the backend allows, and report what was lost. */
  beat(request: BeatRequest): Promise<BeatReport>;

  createGroup(groupId: string): Promise<void>;
  getGroups(): Promise<string[]>;
  /** Join with encoded capabilities (`GroupNotCreatedError`, `MemberAlreadyExistError`). */
  joinGroup(groupId: string, capabilities: Uint8Array): Promise<void>;
  leaveGroup(groupId: string): Promise<void>;
  deleteGroup(groupId: string): Promise<void>;
  /** Live members of each group, read together; null for a group that does not exist. */
  getMembers(groupIds: readonly string[]): Promise<Map<string, Set<string> | null>>;
  getMembersWithCapabilities(groupId: string): Promise<Map<string, Uint8Array>>;
  getMember(groupId: string, memberId: string): Promise<StoredMember>;
  updateCapabilities(groupId: string, capabilities: Uint8Array): Promise<void>;

  getLeader(groupId: string): Promise<string | null>;
  /**
   * Try to win, or keep, the leadership of each group, together; returns the
   * groups this session leads afterwards. A missing group is not led.
   */
  elect(groupIds: readonly string[]): Promise<Set<string>>;
  /** Give up leadership of `groupId`; true if this session held it. */
  standDown(groupId: string): Promise<boolean>;
  /** The groups watched now (join, leave or election): subscribe to their changes. */
  watch(groupIds: ReadonlySet<string>): Promise<void>;

  /**
   * Take the hold at once, or (with `wait`) join the lock's FIFO queue and
   * answer `Waiting`: the core then looks (`look()`) when a push says it may
   * have been granted, and at the latest every `waiterRecheckMs`. null: not
   * grantable and not queued.
   */
  acquire(request: LockRequest): Promise<Grant | Waiting | null>;
  /**
   * Where each queued request stands, by holder, in one round trip: granted
   * (a grant's lease renewed from now), still waiting, or lapsed (its place
   * is gone: the core queues it again). Keeps each waiter's place alive.
   */
  look(waiters: readonly HoldRef[]): Promise<Map<string, WaiterState>>;
  /** Leave the queue; a grant that raced the withdrawal is returned (the core releases it). */
  withdraw(ref: HoldRef): Promise<Grant | null>;
  /** true if `ref`'s hold was there and is now gone; never touches another holder. */
  release(ref: HoldRef): Promise<boolean>;
  isHeld(ref: HoldRef): Promise<boolean>;
  /** Remove every hold on `name` (their holders learn of it by `holdLost` or their next beat); true if there was one. */
  breakLock(name: string): Promise<boolean>;

  /** Errors meaning the backend could not be reached (become `CoordinatorConnectionError`). */
  isConnectionError?(error: unknown): boolean;
  /** Errors meaning the backend did not answer in time (become `OperationTimedOutError`). */
  isTimeoutError?(error: unknown): boolean;
  /** Errors the backend answered a request with, a failed script say (become `CoordinationError`). */
  isServerError?(error: unknown): boolean;
}

/** What a backend tells the core between calls. Safe to call at any time, any number of times. */
export interface BackendEvents {
  /** The session is gone (a dropped connection): every hold and leadership ends now. */
  connectionLost(reason?: unknown): void;
  /** Reconnected: the core beats at once (rejoins, re-subscribes, reconciles holds). */
  connectionRestored(): void;
  /** Someone joined or left `groupId`, or it was deleted. */
  membersChanged(groupId: string): void;
  /** The leader of `groupId` is gone: candidates try at their next run. */
  leaderGone(groupId: string): void;
  /** This session's leadership of `groupId` ended (the group was deleted, say). */
  leadershipLost(groupId: string): void;
  /** This session's hold `holder` ended (broken, say). */
  holdLost(holder: string): void;
  /**
   * These queued requests (by holder; every one when omitted) may have been
   * granted, or may go now: the core looks (`look()`) at once, many pushes
   * in one call.
   */
  mayBeGranted(holders?: readonly string[]): void;
}

/** A queued request that still waits; look again within `recheckMs` (at most `waiterRecheckMs`). */
export interface Waiting {
  readonly waiting: true;
  readonly recheckMs?: number;
}

/** A queued request's state in the backend. */
export type WaiterState = Grant | Waiting | 'lapsed';

/** One handle's hold on a lock, or its place in the lock's queue. `holder` is unique per handle. */
export interface HoldRef {
  readonly name: string;
  readonly holder: string;
  readonly shared: boolean;
}

export interface LockRequest extends HoldRef {
  /** Queue when the hold cannot be had at once. */
  readonly wait: boolean;
}

export interface Grant {
  /** Greater than every token this backend issued before for the name. */
  fence: bigint;
  /** ms the hold lasts without a beat; undefined when it ends only with the session. */
  leaseMs: number | undefined;
}

/** Everything this session has, as the driver sees it. */
export interface SessionSnapshot {
  /** Groups joined, with their encoded capabilities (to rejoin after an eviction). */
  readonly groups: ReadonlyMap<string, Uint8Array>;
  readonly holds: readonly HoldRef[];
  readonly waiters: readonly HoldRef[];
  readonly leaderships: readonly string[];
}

export interface BeatRequest extends SessionSnapshot {
  /** Refresh this member's liveness too (false for `Lock.heartbeat()`, which refreshes one hold). */
  readonly liveness: boolean;
  /** Holds and leaderships the core dropped locally when their lease ran out: let them go. */
  readonly abandonedHolds: readonly HoldRef[];
  readonly abandonedLeaderships: readonly string[];
}

export interface BeatReport {
  /** This member's liveness had lapsed before the beat: the backend had evicted it from its groups. */
  lapsed: boolean;
  /** Groups of the request this member is no longer in (evicted, left through a twin, or deleted). */
  missingGroups: string[];
  /** Holders whose hold is gone. */
  lostHolds: string[];
  lostLeaderships: string[];
  /** Where each queued request of the request stands, as `look()` answers (a grant's push may have been missed). */
  waiters: Map<string, WaiterState>;
}
