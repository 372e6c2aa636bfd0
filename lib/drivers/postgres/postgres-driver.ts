import type { Client, Notification } from 'pg';
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
import { LockKeys, newSessionKey } from './lock-keys.js';
import { PostgresDeathWatch } from './postgres-death-watch.js';
import * as groups from './postgres-group-operations.js';
import {
  ensureSchema,
  isConnectionError,
  isTimeoutError,
  openClient,
  openSession,
  refuseTransactionPooler,
} from './postgres-connection.js';
import type { PostgresSettings } from './postgres-options.js';
import { PostgresStatements } from './postgres-statements.js';
import { SchemaNames } from './schema-names.js';
import {
  acquireStatement,
  beatStatement,
  breakLockStatement,
  closeSessionStatement,
  collectGarbageStatement,
  isHeldStatement,
  pingStatement,
  releaseStatement,
  settleStatement,
  tryGrantsStatement,
  waitReleasedStatement,
  withdrawStatement,
} from './sql/index.js';

/** How long break() waits for the broken sessions to let go of the lock. */
const BREAK_WAIT_MS = 2_000;
/** Dead sessions' rows are collected at most this often, by a statement of its own after a beat. */
const GC_INTERVAL_MS = 10_000;

const text = (value: bigint): string => value.toString();

/**
 * How often queued requests look again while any wait: a holder that dies
 * frees its advisory lock at once but notifies nobody. The head waiter
 * learns of it sooner through the death watch (postgres-death-watch.ts);
 * this covers the rest (a waiter behind a dead waiter, a Python holder).
 */
export const WAITER_POLL_MS = 500;

/**
 * The driver port on PostgreSQL (docs/postgresql.md). One connection per
 * coordinator holds every session-level advisory lock — the session's own
 * key (its liveness), leaderships, lock holds — runs every statement and
 * LISTENs. Blocked acquirers take no connection: they wait in a queue table
 * and are woken by NOTIFY on their session's channel. Each port call is one
 * round trip (one statement or one function call).
 */
export class PostgresDriver implements Backend {
  /** Session-level advisory locks: a process that dies lets go of everything at once (docs/postgresql.md). */
  readonly characteristics = [
    Characteristic.DistributedAcrossThreads,
    Characteristic.DistributedAcrossProcesses,
    Characteristic.DistributedAcrossHosts,
    Characteristic.NonTimeoutBased,
  ];
  /**
   * How long a hold or leadership is believed without a successful beat:
   * the beat interval plus the statement timeout, counted by the core from
   * before the request (docs/postgresql.md#how-long-a-cut-off-holder-believes).
   */
  readonly leaseMs: number;
  readonly beatIntervalMs: number;
  readonly commandTimeoutMs: number;
  readonly secrets: readonly string[];
  readonly membershipPushes: { fallbackMs: number };
  /** Read by the core at each recheck (a test may lengthen it). */
  waiterRecheckMs = WAITER_POLL_MS;
  private readonly names: SchemaNames;
  private readonly keys: LockKeys;
  /** The session's connection, key and event sink, and the statements sent on it in order. */
  private readonly db: PostgresStatements;
  private closing = false;
  /** Set by a reconnect: the next beat reports `lapsed`, so groups lost meanwhile are rejoined. */
  private reconnected = false;
  private readonly deathWatch: PostgresDeathWatch;
  /** Watched groups by their tag in events payloads. */
  private watched = new Map<string, string>();
  private listeningEvents = false;
  private lastGc = 0;

  constructor(
    private readonly settings: PostgresSettings,
    private readonly memberId: string,
  ) {
    this.beatIntervalMs = Math.min(settings.membershipTimeoutMs, settings.lockTimeoutMs) / 2;
    this.commandTimeoutMs = settings.commandTimeoutMs;
    this.leaseMs = this.beatIntervalMs + settings.commandTimeoutMs;
    this.secrets = settings.password ? [settings.password] : [];
    this.names = new SchemaNames(settings.schema, settings.tablePrefix);
    this.keys = new LockKeys(settings.namespace, settings.lockKeyStyle);
    this.db = new PostgresStatements(this.names, this.keys, memberId);
    this.membershipPushes = { fallbackMs: Math.min(1_000, this.beatIntervalMs) };
    this.deathWatch = new PostgresDeathWatch(settings, () => this.db.events?.mayBeGranted());
  }

  /** This session's advisory key (tests look it up in pg_locks). */
  get session(): bigint {
    return this.db.sessionKey;
  }

  // ---- Session -------------------------------------------------------------------

  async connect(events: BackendEvents): Promise<void> {
    this.closing = false;
    this.reconnected = false;
    this.watched.clear();
    this.db.sessionKey = newSessionKey();
    this.lastGc = Date.now();
    this.db.events = events;
    this.deathWatch.reopen();
    try {
      await this.open(false);
    } catch (error) {
      this.db.events = undefined;
      throw error;
    }
  }

  /** Connect, create the schema if needed, open (or reopen) the session and LISTEN. */
  private async open(reopen: boolean): Promise<void> {
    const client = await openClient(this.settings);
    try {
      if (!reopen) await refuseTransactionPooler(client, this.settings);
      await ensureSchema(client, this.names);
      // A first connection collects before writing its row, so rows a dead process of this member id left go.
      if (!reopen) await this.collectGarbage(client);
      this.db.sessionKey = await openSession(client, this.names, {
        sessionKey: this.db.sessionKey,
        memberId: this.memberId,
        timeoutMs: this.settings.membershipTimeoutMs,
        reopen,
      });
      await client.query(`LISTEN "${SchemaNames.sessionChannel(this.db.sessionKey)}"`);
      this.listeningEvents = this.watched.size > 0;
      if (this.listeningEvents) await client.query(`LISTEN "${this.names.eventsChannel}"`);
      if (reopen) await this.collectGarbage(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    client.on('notification', (message) => this.onNotification(message));
    client.on('end', () => this.connectionEnded(client));
    this.db.client = client;
  }

  /** Its own statement, which may fail alone: liveness never waits for it. */
  private async collectGarbage(client: Client): Promise<void> {
    this.lastGc = Date.now();
    await client.query(this.db.statement(collectGarbageStatement, [])).catch(() => undefined);
  }

  private connectionEnded(client: Client): void {
    if (client !== this.db.client) return;
    this.db.client = undefined;
    if (this.closing) return;
    this.db.events?.connectionLost();
    void this.reconnect();
  }

  /** Reconnect with backoff (50 ms doubling to 2 s), then tell the core, which beats at once. */
  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.closing; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 2_000)));
      if (this.closing) return;
      try {
        await this.open(true);
      } catch {
        continue;
      }
      if (this.closing) {
        const client = this.db.client;
        this.db.client = undefined;
        await client?.end().catch(() => undefined);
        return;
      }
      this.reconnected = true;
      this.db.events?.connectionRestored();
      return;
    }
  }

  async disconnect(snapshot: SessionSnapshot): Promise<void> {
    this.closing = true;
    this.deathWatch.close();
    const client = this.db.client;
    try {
      await this.db.query(closeSessionStatement, [text(this.db.sessionKey), this.memberId, null]);
      await this.db.query(closeSessionStatement, [
        text(this.db.sessionKey),
        this.memberId,
        [...snapshot.groups.keys()],
      ]);
    } finally {
      this.db.client = undefined;
      this.db.events = undefined;
      await client?.end().catch(() => undefined);
    }
  }

  async ping(): Promise<void> {
    await this.db.query(pingStatement, []);
  }

  async beat(request: BeatRequest): Promise<BeatReport> {
    const holdKeys = request.holds.map((ref) => this.keys.lock(ref.name));
    const lockKeys = [
      ...holdKeys,
      ...request.waiters.map((ref) => this.keys.lock(ref.name)),
      ...request.abandonedHolds.map((ref) => this.keys.lock(ref.name)),
    ];
    const leaderKeys = [...request.leaderships, ...request.abandonedLeaderships].map((g) => this.keys.leader(g));
    const answer = await this.db.ask(
      beatStatement,
      [
        text(this.db.sessionKey),
        this.memberId,
        this.settings.membershipTimeoutMs,
        request.liveness,
        [...request.groups.keys()],
        request.holds.map((ref) => ref.holder),
        holdKeys.map(text),
        request.holds.map((ref) => ref.shared),
        request.leaderships,
        request.leaderships.map((groupId) => text(this.keys.leader(groupId))),
        request.waiters.map((ref) => ref.holder),
        request.abandonedHolds.map((ref) => ref.holder),
        request.abandonedLeaderships,
        request.abandonedLeaderships.map((groupId) => text(this.keys.leader(groupId))),
        lockKeys.map(text),
      ],
      { keys: [...lockKeys, ...leaderKeys] },
    );
    if (request.liveness && Date.now() - this.lastGc >= GC_INTERVAL_MS) {
      this.lastGc = Date.now(); // set before: a collection that fails is not retried at every beat
      void this.db.query(collectGarbageStatement, []).catch(() => undefined);
    }
    let reconnected = false;
    if (request.liveness) {
      reconnected = this.reconnected;
      this.reconnected = false;
    }
    const waiters = new Map<string, WaiterState>();
    for (const { holder } of request.waiters) {
      const fence = answer.granted.get(holder);
      if (fence !== undefined) waiters.set(holder, this.grant(fence));
      else waiters.set(holder, answer.requeue.has(holder) ? 'lapsed' : { waiting: true });
    }
    return {
      lapsed: answer.lapsed || reconnected,
      missingGroups: answer.missingGroups,
      lostHolds: answer.lostHolds,
      lostLeaderships: answer.lostLeaderships,
      waiters,
    };
  }

  async watch(groupIds: ReadonlySet<string>): Promise<void> {
    this.watched = new Map([...groupIds].map((groupId) => [SchemaNames.groupTag(groupId), groupId]));
    const listen = groupIds.size > 0;
    if (listen === this.listeningEvents) return;
    const client = this.db.connected();
    await client.query(`${listen ? 'LISTEN' : 'UNLISTEN'} "${this.names.eventsChannel}"`);
    this.listeningEvents = listen;
  }

  private onNotification({ channel, payload = '' }: Notification): void {
    const events = this.db.events;
    if (!events) return;
    if (channel === this.names.eventsChannel) {
      const groupId = this.watched.get(payload.slice(1));
      if (groupId === undefined) return;
      if (payload[0] === 'l') events.leaderGone(groupId);
      else events.membersChanged(groupId);
      if (payload[0] === 'd') void groups.letGoDeletedLeadership(this.db, groupId);
      return;
    }
    if (payload[0] === 'w') events.mayBeGranted([payload.slice(1)]);
    else if (payload[0] === 'b') {
      const space = payload.indexOf(' ');
      void this.broken(payload.slice(space + 1), BigInt(payload.slice(2, space)), payload[1] === '1');
    }
  }

  /** Another session broke our hold: only we can unlock our advisory lock, and the breaker waits for it. */
  private async broken(holder: string, key: bigint, shared: boolean): Promise<void> {
    this.db.events?.holdLost(holder);
    await this.db
      .query(settleStatement, [text(this.db.sessionKey), text(key), shared], { keys: [key] })
      .catch(() => undefined);
  }

  // ---- Groups, members and leadership (lib/drivers/postgres/postgres-group-operations.ts) --

  readonly createGroup = (groupId: string) => groups.createGroup(this.db, groupId);
  readonly getGroups = () => groups.getGroups(this.db);
  readonly joinGroup = (groupId: string, capabilities: Uint8Array) => groups.joinGroup(this.db, groupId, capabilities);
  readonly leaveGroup = (groupId: string) => groups.leaveGroup(this.db, groupId);
  readonly deleteGroup = (groupId: string) => groups.deleteGroup(this.db, groupId);
  readonly getMembers = (groupIds: readonly string[]) => groups.getMembers(this.db, groupIds);
  readonly getMembersWithCapabilities = (groupId: string) => groups.getMembersWithCapabilities(this.db, groupId);
  readonly getMember = (groupId: string, memberId: string) => groups.getMember(this.db, groupId, memberId);
  readonly updateCapabilities = (groupId: string, capabilities: Uint8Array) =>
    groups.updateCapabilities(this.db, groupId, capabilities);
  readonly getLeader = (groupId: string) => groups.getLeader(this.db, groupId);
  readonly elect = (groupIds: readonly string[]) => groups.elect(this.db, groupIds);
  readonly standDown = (groupId: string) => groups.standDown(this.db, groupId);

  // ---- Locks ---------------------------------------------------------------------------

  async acquire(request: LockRequest): Promise<Grant | Waiting | null> {
    const key = this.keys.lock(request.name);
    const answer = await this.db.ask(
      acquireStatement,
      [text(this.db.sessionKey), request.holder, text(key), request.name, request.shared, request.wait],
      { keys: [key] },
    );
    if (answer.kind === 'granted') return this.grant(answer.fence);
    if (answer.kind === 'refused') return null;
    this.watchFor(answer.blocker);
    return { waiting: true };
  }

  /** Every look in one round trip; a waiter at the head names the session to watch for its death. */
  async look(waiters: readonly HoldRef[]): Promise<Map<string, WaiterState>> {
    const keys = waiters.map((ref) => this.keys.lock(ref.name));
    const answers = await this.db.ask(
      tryGrantsStatement,
      [text(this.db.sessionKey), waiters.map((ref) => ref.holder), keys.map(text)],
      { keys },
    );
    const states = new Map<string, WaiterState>();
    for (const [holder, answer] of answers) {
      if (answer.kind === 'granted') states.set(holder, this.grant(answer.fence));
      else if (answer.kind === 'lapsed') states.set(holder, 'lapsed');
      else {
        this.watchFor(answer.blocker);
        states.set(holder, { waiting: true });
      }
    }
    return states;
  }

  /** Watch `blocker` for as long as two rechecks: each look that names it again renews the watch. */
  private watchFor(blocker: bigint | null): void {
    if (blocker !== null) this.deathWatch.watch(blocker, 2 * this.waiterRecheckMs);
  }

  async withdraw(ref: HoldRef): Promise<Grant | null> {
    const fence = await this.db.ask(withdrawStatement, [text(this.db.sessionKey), ref.holder]);
    return fence === null ? null : this.grant(fence);
  }

  release(ref: HoldRef): Promise<boolean> {
    // Failed, the hold is not believed either: the repair lets it go.
    return this.db.ask(releaseStatement, [text(this.db.sessionKey), ref.holder], {
      keys: [this.keys.lock(ref.name)],
      holders: [ref.holder],
    });
  }

  isHeld(ref: HoldRef): Promise<boolean> {
    return this.db.ask(isHeldStatement, [text(this.db.sessionKey), ref.holder, ref.shared]);
  }

  async breakLock(name: string): Promise<boolean> {
    const key = this.keys.lock(name);
    const answer = await this.db.ask(breakLockStatement, [text(this.db.sessionKey), text(key)], { keys: [key] });
    for (const holder of answer.own) this.db.events?.holdLost(holder);
    if (answer.others.length > 0) await this.db.query(waitReleasedStatement, [text(key), answer.others, BREAK_WAIT_MS]);
    return answer.wasHeld;
  }

  /** A grant on PostgreSQL: its lease is the driver's (the beat interval plus the statement timeout). */
  private grant(fence: bigint): Grant {
    return { fence, leaseMs: this.leaseMs };
  }

  readonly isConnectionError = isConnectionError;
  readonly isTimeoutError = isTimeoutError;
}
