import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
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
import { CoordinationError } from '../../errors.js';
import {
  isConnectionError,
  isTimeoutError,
  openClient,
  ReplicasBehind,
  SessionUnsubscribed,
} from './redis-connection.js';
import * as groups from './redis-group-operations.js';
import { type RedisGroupContext, standDownIn } from './redis-group-operations.js';
import { RedisKeys } from './redis-keys.js';
import * as locks from './redis-locks.js';
import { DEAD_HOLDER_CHECK_MS, flag, type RedisLockContext } from './redis-locks.js';
import type { RedisSettings } from './redis-options.js';
import { SessionConnections } from './redis-session-connections.js';
import {
  forgetSessionScript,
  leaveScript,
  refreshScript,
  registerSessionScript,
  releaseScript,
  waitingScript,
  withdrawScript,
} from './scripts/index.js';

/** Reads one pipeline reply into the beat report, in the order the commands were queued. */
type ReplyReader = (reply: unknown) => void;

/** tooz's beat value; any non-empty value means alive. */
const ALIVE = 'Not dead!';
/** tooz keeps this field in every group hash, so no member may be called so. */
const RESERVED_MEMBER = '__created__';

/**
 * The driver port on Redis, wire-compatible with tooz's Redis driver
 * (docs/redis.md). Each port call is one round trip: one script, or one
 * pipeline for a beat however much is held. A second connection subscribes
 * to this session's channel (grants) and to the watched groups' channels.
 */
export class RedisDriver implements Backend {
  readonly characteristics = [
    Characteristic.DistributedAcrossThreads,
    Characteristic.DistributedAcrossProcesses,
    Characteristic.DistributedAcrossHosts,
    Characteristic.Causal,
  ];
  readonly leaseMs: number;
  readonly beatIntervalMs: number;
  readonly commandTimeoutMs: number;
  readonly secrets: readonly string[];
  readonly membershipPushes: { fallbackMs: number };
  readonly waiterRecheckMs: number;
  private readonly keys: RedisKeys;
  private client: Redis | undefined;
  private subscriber: Redis | undefined;
  private events: BackendEvents | undefined;
  private sessionId = '';
  private token = '';
  /** Watched group → its events channel. */
  private readonly watched = new Map<string, string>();
  private replicas = 0;
  private readonly connections = new SessionConnections({
    lost: () => this.events?.connectionLost(),
    restored: () => this.events?.connectionRestored(),
    subscribeAgain: (subscriber) => this.subscribeAgain(subscriber),
  });

  constructor(
    private readonly settings: RedisSettings,
    private readonly memberId: string,
  ) {
    this.leaseMs = settings.lockTimeoutMs;
    this.beatIntervalMs = Math.min(settings.membershipTimeoutMs, settings.lockTimeoutMs) / 2;
    this.commandTimeoutMs = settings.commandTimeoutMs;
    this.secrets = [settings.password, settings.sentinel?.password].filter((s): s is string => Boolean(s));
    this.keys = new RedisKeys(settings.namespace, settings.lockKeyStyle);
    // Python tooz members publish nothing, and a dead process is found by reading: every watched group
    // is read at least this often, under a watcher interval of 1 s (Nest's default), so a crash shows
    // within one run.
    this.membershipPushes = { fallbackMs: Math.min(500, this.beatIntervalMs) };
    // Looks renew a waiter's place too, so they come at least once per beat interval.
    this.waiterRecheckMs = Math.min(DEAD_HOLDER_CHECK_MS, this.beatIntervalMs);
  }

  /** What a group or lock call needs, as the session is now (a fresh value per call). */
  private context(): RedisLockContext & RedisGroupContext {
    return {
      keys: this.keys,
      memberId: this.memberId,
      token: this.token,
      leaseMs: this.leaseMs,
      channel: this.keys.session(this.sessionId),
      replicas: this.replicas,
      waitTimeoutMs: this.settings.waitTimeoutMs,
      granting: this.connections.granting, // docs/redis.md#failover
      client: this.connected(),
    };
  }

  // ---- Session -------------------------------------------------------------------

  async connect(events: BackendEvents): Promise<void> {
    if (this.memberId === RESERVED_MEMBER) {
      throw new CoordinationError(`Member id ${RESERVED_MEMBER} is reserved by tooz's Redis layout`);
    }
    this.sessionId = randomUUID().replace(/-/g, '');
    this.token = `${this.sessionId}:${this.memberId}`;
    const name = `nestjs-coordination:${this.sessionId}`;
    const client = await openClient(this.settings, `${name}:commands`);
    let subscriber: Redis;
    try {
      subscriber = await openClient(this.settings, `${name}:subscriber`, true);
    } catch (error) {
      client.disconnect();
      throw error;
    }
    subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    try {
      // Subscribed before the session is named: others must never see it named and unsubscribed.
      await subscriber.subscribe(this.keys.session(this.sessionId));
      const pipeline = client
        .pipeline()
        .set(this.keys.beat(this.memberId), ALIVE, 'PX', this.settings.membershipTimeoutMs)
        .hset(this.keys.sessions, this.memberId, this.sessionId);
      this.registerIn(pipeline);
      const results = (await pipeline.exec()) ?? [];
      const failure = results.find(([error]) => error !== null)?.[0];
      if (failure) throw failure;
      if (results[2]?.[1] !== 1) {
        throw new SessionUnsubscribed('The session channel is not subscribed on the node the commands go to');
      }
      this.replicas = this.settings.waitReplicas > 0 ? await connectedReplicas(client) : 0;
    } catch (error) {
      client.disconnect();
      subscriber.disconnect();
      throw error;
    }
    this.client = client;
    this.subscriber = subscriber;
    this.events = events;
    this.watched.clear();
    this.connections.follow(client, subscriber);
  }

  /** The session channel again, after ioredis's own re-subscription (so it is subscribed once this resolves). */
  private async subscribeAgain(subscriber: Redis): Promise<void> {
    await subscriber.subscribe(this.keys.session(this.sessionId));
    const client = this.client;
    // Record this node for NUMSUB (a failover may have moved us); the beat records it too.
    if (client?.status === 'ready') {
      await registerSessionScript.run(client, [this.keys.sessionNode(this.sessionId)], this.registerArgs());
    }
  }

  /** Records the node this session subscribed on (ttl: as long as anything of the session can last). */
  private registerIn(pipeline: ChainableCommander): void {
    registerSessionScript.run(pipeline, [this.keys.sessionNode(this.sessionId)], this.registerArgs());
  }

  private registerArgs(): [string, number] {
    return [this.keys.session(this.sessionId), 2 * Math.max(this.leaseMs, this.settings.membershipTimeoutMs)];
  }

  async disconnect(snapshot: SessionSnapshot): Promise<void> {
    const client = this.connected();
    this.connections.closing = true;
    try {
      try {
        await this.giveUp(client, snapshot);
      } catch (error) {
        // The connection was moving (a Sentinel failover, a blink): once it is back, once more.
        if (!isConnectionError(error)) throw error;
        await readyWithin(client, this.settings.connectTimeoutMs);
        await this.giveUp(client, snapshot);
      }
    } finally {
      this.events = undefined;
      this.client = undefined;
      this.subscriber?.disconnect();
      this.subscriber = undefined;
      await client.quit().catch(() => client.disconnect());
    }
  }

  /** The stop batch, in one pipeline: leaderships, memberships, holds, waiters, liveness, session. */
  private async giveUp(client: Redis, snapshot: SessionSnapshot): Promise<void> {
    await readyWithin(client, this.settings.connectTimeoutMs);
    const pipeline = client.pipeline();
    for (const groupId of snapshot.leaderships) standDownIn(this.context(), pipeline, groupId);
    for (const groupId of snapshot.groups.keys()) {
      leaveScript.run(
        pipeline,
        [this.keys.group(groupId), this.keys.info(groupId)],
        [this.memberId, this.keys.events(groupId)],
      );
    }
    const at = this.context();
    for (const ref of snapshot.holds) void locks.lockCall(at, pipeline, releaseScript, ref);
    for (const ref of snapshot.waiters) void locks.lockCall(at, pipeline, withdrawScript, ref);
    pipeline.del(this.keys.beat(this.memberId));
    forgetSessionScript.run(pipeline, [this.keys.sessions], [this.memberId, this.sessionId]);
    const results = (await pipeline.exec()) ?? [];
    // Each part is idempotent (a group already left answers -2), so a retry is safe.
    const failure = results.find(([error]) => error !== null)?.[0];
    if (failure) throw failure;
  }

  async ping(): Promise<void> {
    await this.connected().ping();
  }

  async beat(request: BeatRequest): Promise<BeatReport> {
    const at = this.context();
    const pipeline = at.client.pipeline();
    const report: BeatReport = {
      lapsed: false,
      missingGroups: [],
      lostHolds: [],
      lostLeaderships: [],
      waiters: new Map<string, WaiterState>(),
    };
    const readers: ReplyReader[] = [];
    const ignore: ReplyReader = () => undefined;
    // Let go first: nothing let go may touch what the rest of the beat renews.
    for (const ref of request.abandonedHolds) {
      void locks.lockCall(at, pipeline, releaseScript, ref);
      readers.push(ignore);
    }
    for (const groupId of request.abandonedLeaderships) {
      standDownIn(this.context(), pipeline, groupId);
      readers.push(ignore);
    }
    if (request.liveness) {
      pipeline.set(this.keys.beat(this.memberId), ALIVE, 'PX', this.settings.membershipTimeoutMs, 'GET');
      pipeline.hset(this.keys.sessions, this.memberId, this.sessionId);
      this.registerIn(pipeline);
      readers.push((previous) => (report.lapsed = previous === null), ignore, ignore);
    }
    for (const groupId of request.groups.keys()) {
      pipeline.hexists(this.keys.group(groupId), this.memberId);
      readers.push((member) => member === 0 && report.missingGroups.push(groupId));
    }
    const held = [
      ...request.holds.map((ref) => ({ key: this.keys.lock(ref.name), holder: ref.holder, shared: ref.shared })),
      ...request.leaderships.map((groupId) => ({ key: this.keys.leader(groupId), holder: this.token, shared: false })),
    ];
    if (held.length > 0) {
      refreshScript.run(
        pipeline,
        held.flatMap(({ key }) => [key, `${key}:readers`, `${key}:grants`]),
        [at.leaseMs, at.channel, ...held.flatMap(({ holder, shared }) => [holder, flag(shared)])],
      );
      readers.push((reply) => {
        const kept = refreshScript.decode(reply);
        request.holds.forEach((ref, i) => !kept[i] && report.lostHolds.push(ref.holder));
        request.leaderships.forEach(
          (groupId, i) => !kept[request.holds.length + i] && report.lostLeaderships.push(groupId),
        );
      });
    }
    for (const ref of request.waiters) {
      locks.lookIn(at, pipeline, ref);
      readers.push((reply) => report.waiters.set(ref.holder, locks.waiterState(at, waitingScript.decode(reply))));
    }
    // Renewals and grants are acknowledged as acquires are: one a failover could lose is a failed one.
    const acknowledged = this.replicas > 0 && (held.length > 0 || request.waiters.length > 0);
    if (acknowledged) pipeline.wait(this.replicas, this.settings.waitTimeoutMs);
    const results = (await pipeline.exec()) ?? [];
    const failure = results.find(([error]) => error !== null)?.[0];
    if (failure) throw failure;
    const replicasAcknowledged = Number(results[readers.length]?.[1]);
    if (acknowledged && replicasAcknowledged < this.replicas) {
      // The belief then ends with the lease of the last acknowledged renewal.
      throw new ReplicasBehind(
        `beat of member ${this.memberId}: ${replicasAcknowledged} of ${this.replicas} replicas ` +
          `acknowledged it within ${this.settings.waitTimeoutMs} ms`,
      );
    }
    readers.forEach((read, i) => read(results[i]?.[1]));
    return report;
  }

  async watch(groupIds: ReadonlySet<string>): Promise<void> {
    const subscriber = this.subscriber;
    if (!subscriber) throw new CoordinationError('The Redis session is not connected');
    const added = [...groupIds].filter((groupId) => !this.watched.has(groupId));
    const removed = [...this.watched.keys()].filter((groupId) => !groupIds.has(groupId));
    for (const groupId of added) this.watched.set(groupId, this.keys.events(groupId));
    const gone = removed.map((groupId) => this.keys.events(groupId));
    for (const groupId of removed) this.watched.delete(groupId);
    if (added.length > 0) await subscriber.subscribe(...added.map((groupId) => this.keys.events(groupId)));
    if (gone.length > 0) await subscriber.unsubscribe(...gone);
  }

  private onMessage(channel: string, message: string): void {
    const events = this.events;
    if (!events) return;
    if (channel === this.keys.session(this.sessionId)) {
      const [kind, holder] = message.split(' ');
      if (kind === 'granted' && holder) events.mayBeGranted([holder]);
      return;
    }
    for (const [groupId, groupChannel] of this.watched) {
      if (groupChannel !== channel) continue;
      if (message === 'leader') events.leaderGone(groupId);
      else {
        events.membersChanged(groupId);
        if (message === 'deleted') events.leadershipLost(groupId);
      }
    }
  }

  // ---- Locks (lib/drivers/redis/redis-locks.ts) ----------------------------------------

  readonly acquire = (request: LockRequest): Promise<Grant | Waiting | null> => locks.acquire(this.context(), request);
  readonly look = (waiters: readonly HoldRef[]): Promise<Map<string, WaiterState>> =>
    locks.look(this.context(), waiters);
  readonly withdraw = (ref: HoldRef): Promise<Grant | null> => locks.withdraw(this.context(), ref);
  readonly release = (ref: HoldRef): Promise<boolean> => locks.release(this.context(), ref);
  readonly isHeld = (ref: HoldRef): Promise<boolean> => locks.isHeld(this.context(), ref);
  readonly breakLock = (name: string): Promise<boolean> => locks.breakLock(this.context(), name);

  // ---- Groups, members and leadership (lib/drivers/redis/redis-group-operations.ts) -----

  readonly createGroup = (groupId: string) => groups.createGroup(this.context(), groupId);
  readonly getGroups = () => groups.getGroups(this.context());
  readonly joinGroup = (groupId: string, capabilities: Uint8Array) =>
    groups.joinGroup(this.context(), groupId, capabilities);
  readonly leaveGroup = (groupId: string) => groups.leaveGroup(this.context(), groupId);
  readonly deleteGroup = (groupId: string) => groups.deleteGroup(this.context(), groupId);
  readonly getMembers = (groupIds: readonly string[]) => groups.getMembers(this.context(), groupIds);
  readonly getMembersWithCapabilities = (groupId: string) => groups.getMembersWithCapabilities(this.context(), groupId);
  readonly getMember = (groupId: string, memberId: string) => groups.getMember(this.context(), groupId, memberId);
  readonly updateCapabilities = (groupId: string, capabilities: Uint8Array) =>
    groups.updateCapabilities(this.context(), groupId, capabilities);
  readonly getLeader = (groupId: string) => groups.getLeader(this.context(), groupId);
  readonly elect = (groupIds: readonly string[]) => groups.elect(this.context(), groupIds);
  readonly standDown = (groupId: string) => groups.standDown(this.context(), groupId);

  isConnectionError(error: unknown): boolean {
    return isConnectionError(error);
  }

  isTimeoutError(error: unknown): boolean {
    return isTimeoutError(error);
  }

  /** An error reply from Redis (`ReplyError`: a script failed, a key of the wrong type). */
  isServerError(error: unknown): boolean {
    return error instanceof Error && error.name === 'ReplyError';
  }

  // ---- Helpers -------------------------------------------------------------------------

  private connected(): Redis {
    if (!this.client) throw new CoordinationError('The Redis session is not connected');
    return this.client;
  }
}

/** How many replicas the primary has now (`INFO replication`). */
async function connectedReplicas(client: Redis): Promise<number> {
  const info = await client.info('replication');
  const match = /connected_slaves:(\d+)/.exec(info);
  return match ? Number(match[1]) : 0;
}

/** Resolves once `client` is ready, or after `ms` (the call that follows then fails as it would). */
function readyWithin(client: Redis, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    client.once('ready', done);
  });
}
