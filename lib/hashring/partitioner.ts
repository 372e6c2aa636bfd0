import { GroupNotCreatedError, MemberNotJoinedError } from '../errors.js';
import { HashRing, isValidWeight } from './hash-ring.js';

/** What a partitioner needs from a coordinator; kept structural so this folder imports no driver. */
export interface PartitionerHost {
  readonly memberId: string;
  getMemberCapabilities(groupId: string, memberId: string): Promise<unknown>;
  watchJoinGroup(groupId: string, cb: (event: { groupId: string; memberId: string }) => unknown): Promise<void>;
  watchLeaveGroup(groupId: string, cb: (event: { groupId: string; memberId: string }) => unknown): Promise<void>;
  unwatchJoinGroup(groupId: string, cb: (event: { groupId: string; memberId: string }) => unknown): Promise<void>;
  unwatchLeaveGroup(groupId: string, cb: (event: { groupId: string; memberId: string }) => unknown): Promise<void>;
  getMembersWithCapabilities(groupId: string): Promise<Map<string, unknown>>;
}

/** An object that names itself on the ring (tooz's `__tooz_hash__`); anything else is placed by `String(obj)`. */
export interface Partitionable {
  toCoordinationKey(): string | Uint8Array;
}

export interface PartitionerQueryOptions {
  ignoreMembers?: Iterable<string>;
  /** How many distinct members to return; capped at the members not ignored. Default 1. */
  replicas?: number;
}

type MembershipChange = { kind: 'join' | 'leave'; memberId: string };

/**
 * Spreads objects over the members of a group with a `HashRing` (one node per
 * member, weighted by its `weight` capability), as tooz's `Partitioner` does.
 * The ring follows the group through join and leave watchers, so it changes
 * when the host delivers events (`runWatchers()`); queries answer from memory.
 *
 * Unlike tooz, events never throw at the host: a join of a member already on
 * the ring, or one that left before its capabilities could be read, and a
 * leave of a member not on the ring, are ignored.
 */
export class Partitioner {
  readonly ring: HashRing;
  /** Events seen while the first ring is being read; replayed once it is built. */
  #pending: MembershipChange[] | undefined = [];
  /** Changes run one after another, so a join's capability read cannot overtake a later leave. */
  #work: Promise<void> = Promise.resolve();
  #stopped = false;

  private constructor(
    private readonly host: PartitionerHost,
    readonly groupId: string,
    readonly partitions: number,
  ) {
    this.ring = new HashRing([], { partitions });
  }

  /**
   * Watch the group first (which fixes the watchers' baseline), then read its
   * members: a member arriving in between is reported by the watcher rather
   * than missed.
   */
  static async create(host: PartitionerHost, groupId: string, partitions = 32): Promise<Partitioner> {
    const partitioner = new Partitioner(host, groupId, partitions);
    await partitioner.#start();
    return partitioner;
  }

  membersForObject(obj: unknown, options: PartitionerQueryOptions = {}): Set<string> {
    return this.ring.getNodes(coordinationKey(obj), {
      ignoreNodes: options.ignoreMembers,
      replicas: options.replicas,
    });
  }

  belongsToMember(obj: unknown, memberId: string, options?: PartitionerQueryOptions): boolean {
    return this.membersForObject(obj, options).has(memberId);
  }

  belongsToSelf(obj: unknown, options?: PartitionerQueryOptions): boolean {
    return this.belongsToMember(obj, this.host.memberId, options);
  }

  /** Stop following the group; the ring keeps its last state. Calling it again does nothing. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await unwatchBoth(this.host, this.groupId, this.#onJoin, this.#onLeave);
  }

  async #start(): Promise<void> {
    const { host, groupId } = this;
    await host.watchJoinGroup(groupId, this.#onJoin);
    try {
      await host.watchLeaveGroup(groupId, this.#onLeave);
    } catch (error) {
      await host.unwatchJoinGroup(groupId, this.#onJoin).catch(() => undefined);
      throw error;
    }
    try {
      this.#placeAll(await host.getMembersWithCapabilities(groupId));
      const pending = this.#pending ?? [];
      this.#pending = undefined;
      await Promise.all(pending.map((change) => this.#enqueue(change)));
    } catch (error) {
      this.#stopped = true;
      await unwatchBoth(host, groupId, this.#onJoin, this.#onLeave).catch(() => undefined);
      throw error;
    }
  }

  // Arrow properties: the host identifies a watcher by the function, so
  // unwatching needs the very same one.
  readonly #onJoin = (event: { memberId: string }): Promise<void> | undefined =>
    this.#receive({ kind: 'join', memberId: event.memberId });

  readonly #onLeave = (event: { memberId: string }): Promise<void> | undefined =>
    this.#receive({ kind: 'leave', memberId: event.memberId });

  #receive(change: MembershipChange): Promise<void> | undefined {
    if (this.#pending) {
      this.#pending.push(change);
      return undefined;
    }
    return this.#enqueue(change);
  }

  #enqueue(change: MembershipChange): Promise<void> {
    const run = this.#work.then(() => this.#apply(change));
    this.#work = run.catch(() => undefined);
    return run;
  }

  async #apply({ kind, memberId }: MembershipChange): Promise<void> {
    const present = this.ring.nodes.has(memberId);
    if (kind === 'leave') {
      if (present) this.ring.removeNode(memberId);
      return;
    }
    if (present) return;
    let capabilities: unknown;
    try {
      capabilities = await this.host.getMemberCapabilities(this.groupId, memberId);
    } catch (error) {
      // Gone again before we looked: its leave event follows, or already came.
      if (error instanceof MemberNotJoinedError || error instanceof GroupNotCreatedError) return;
      throw error;
    }
    if (!this.ring.nodes.has(memberId)) this.#place(memberId, capabilities);
  }

  /**
   * Put many members on the ring, one `addNodes` per weight: the ring sorts
   * its points once per call, so one call per member is quadratic in a large
   * group (50 000 members took minutes).
   */
  #placeAll(members: Map<string, unknown>): void {
    const byWeight = new Map<number, string[]>();
    for (const [memberId, capabilities] of members) {
      const weight = weightOf(capabilities);
      const batch = byWeight.get(weight);
      if (batch) batch.push(memberId);
      else byWeight.set(weight, [memberId]);
    }
    for (const [weight, memberIds] of byWeight) {
      try {
        this.ring.addNodes(memberIds, weight);
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
        // One refused id refuses the batch: place them one by one, leaving only that one off.
        for (const memberId of memberIds) this.#place(memberId, members.get(memberId));
      }
    }
  }

  /**
   * Put a member on the ring. A member id the ring refuses (one with no UTF-8
   * form, e.g. written by another client) is left off rather than failing
   * every partitioner of the group: it then owns nothing.
   */
  #place(memberId: string, capabilities: unknown): void {
    try {
      this.ring.addNode(memberId, weightOf(capabilities));
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
  }
}

/**
 * A member's `weight` capability when `assertWeight` would take it (an
 * integer from 0 to `MAX_WEIGHT`; 0: on the ring with no points, owning
 * nothing, as in tooz), else 1, tooz's default. A peer's bad value
 * (negative, fractional, huge, a string, a missing or non-dict capability)
 * so never fails or freezes the ring for everyone. tooz reads
 * `caps.get("weight", 1)` and would fail on most of those (3.1.0 even on
 * capabilities that are not a dict), so members shared with Python should
 * join with a plain object.
 */
function weightOf(capabilities: unknown): number {
  if (typeof capabilities !== 'object' || capabilities === null) return 1;
  const prototype = Object.getPrototypeOf(capabilities);
  if (prototype !== Object.prototype && prototype !== null) return 1;
  if (!Object.hasOwn(capabilities, 'weight')) return 1;
  const weight = (capabilities as { weight?: unknown }).weight;
  return isValidWeight(weight) ? weight : 1;
}

/** tooz's `_hash_object`: the object's own key if it has one, else its string form. */
function coordinationKey(obj: unknown): string | Uint8Array {
  const candidate = obj as Partial<Partitionable> | null | undefined;
  if (candidate != null && typeof candidate.toCoordinationKey === 'function') return candidate.toCoordinationKey();
  return String(obj);
}

async function unwatchBoth(
  host: PartitionerHost,
  groupId: string,
  onJoin: (event: { groupId: string; memberId: string }) => unknown,
  onLeave: (event: { groupId: string; memberId: string }) => unknown,
): Promise<void> {
  // Try both even if the first fails, then report the first failure.
  const results = await Promise.allSettled([
    host.unwatchJoinGroup(groupId, onJoin),
    host.unwatchLeaveGroup(groupId, onLeave),
  ]);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}
