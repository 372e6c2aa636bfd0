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
} from '../../core/backend.js';
import { LockKeys, newSessionKey } from './lock-keys.js';
import { grantOf, PostgresWaiters } from './postgres-waiters.js';
import { PostgresDeathWatch } from './postgres-death-watch.js';
import { PostgresGroupOperations } from './postgres-group-operations.js';
import {
  ensureSchema,
  isConnectionError,
  isTimeoutError,
  openClient,
  openSession,
  refuseTransactionPooler,
} from './postgres-connection.js';
import type { PostgresSettings } from './postgres-options.js';
import { SchemaNames } from './schema-names.js';
import {
  acquireStatement,
  beatStatement,
  breakLockStatement,
  closeSessionStatement,
  collectGarbageStatement,
  isHeldStatement,
  letGoLeaderStatement,
  pingStatement,
  releaseStatement,
  settleStatement,
  waitReleasedStatement,
  withdrawStatement,
} from './sql/index.js';

/** How long break() waits for the broken sessions to let go of the lock. */
const BREAK_WAIT_MS = 2_000;
/** Dead sessions' rows are collected at most this often, by a statement of its own after a beat. */
const GC_INTERVAL_MS = 10_000;

const text = (value: bigint): string => value.toString();

/**
 * The driver port on PostgreSQL (docs/postgresql.md). One connection per
 * coordinator holds every session-level advisory lock — the session's own
 * key (its liveness), leaderships, lock holds — runs every statement and
 * LISTENs. Blocked acquirers take no connection: they wait in a queue table
 * and are woken by NOTIFY on their session's channel. Each port call is one
 * round trip (one statement or one function call).
 */
export class PostgresDriver extends PostgresGroupOperations implements Backend {
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
  protected readonly names: SchemaNames;
  protected readonly keys: LockKeys;
  private closing = false;
  /** Set by a reconnect: the next beat reports `lapsed`, so groups lost meanwhile are rejoined. */
  private reconnected = false;
  private readonly waiters: PostgresWaiters;
  private readonly deathWatch: PostgresDeathWatch;
  /** Watched groups by their tag in events payloads. */
  private watched = new Map<string, string>();
  private listeningEvents = false;
  private lastGc = 0;

  constructor(
    private readonly settings: PostgresSettings,
    protected readonly memberId: string,
  ) {
    super();
    this.beatIntervalMs = Math.min(settings.membershipTimeoutMs, settings.lockTimeoutMs) / 2;
    this.commandTimeoutMs = settings.commandTimeoutMs;
    this.leaseMs = this.beatIntervalMs + settings.commandTimeoutMs;
    this.secrets = settings.password ? [settings.password] : [];
    this.names = new SchemaNames(settings.schema, settings.tablePrefix);
    this.keys = new LockKeys(settings.namespace, settings.lockKeyStyle);
    this.membershipPushes = { fallbackMs: Math.min(1_000, this.beatIntervalMs) };
    const driver = this;
    this.waiters = new PostgresWaiters({
      keys: this.keys,
      get sessionKey() {
        return driver.sessionKey;
      },
      get connected() {
        return driver.client !== undefined;
      },
      leaseMs: this.leaseMs,
      query: (statement, values, touched) => this.query(statement, values, touched),
      watch: (sessionKey) => this.deathWatch.watch(sessionKey),
      acquire: (request) => this.acquire(request),
      events: () => this.events,
    });
    this.deathWatch = new PostgresDeathWatch(settings, () => this.waiters.checkAll());
  }

  /** This session's advisory key (tests look it up in pg_locks). */
  get session(): bigint {
    return this.sessionKey;
  }

  // ---- Session -------------------------------------------------------------------

  async connect(events: BackendEvents): Promise<void> {
    this.closing = false;
    this.reconnected = false;
    this.waiters.clear();
    this.leading.clear();
    this.watched.clear();
    this.sessionKey = newSessionKey();
    this.lastGc = Date.now();
    this.events = events;
    this.deathWatch.reopen();
    try {
      await this.open(false);
    } catch (error) {
      this.events = undefined;
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
      this.sessionKey = await openSession(client, this.names, {
        sessionKey: this.sessionKey,
        memberId: this.memberId,
        timeoutMs: this.settings.membershipTimeoutMs,
        reopen,
      });
      await client.query(`LISTEN "${SchemaNames.sessionChannel(this.sessionKey)}"`);
      this.listeningEvents = this.watched.size > 0;
      if (this.listeningEvents) await client.query(`LISTEN "${this.names.eventsChannel}"`);
      if (reopen) await this.collectGarbage(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    client.on('notification', (message) => this.onNotification(message));
    client.on('end', () => this.connectionEnded(client));
    this.client = client;
  }

  /** Its own statement, which may fail alone: liveness never waits for it. */
  private async collectGarbage(client: Client): Promise<void> {
    this.lastGc = Date.now();
    await client.query(this.statement(collectGarbageStatement, [])).catch(() => undefined);
  }

  private connectionEnded(client: Client): void {
    if (client !== this.client) return;
    this.client = undefined;
    if (this.closing) return;
    this.waiters.stopPoll();
    this.leading.clear();
    this.events?.connectionLost();
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
        const client = this.client;
        this.client = undefined;
        await client?.end().catch(() => undefined);
        return;
      }
      this.reconnected = true;
      if (this.waiters.size > 0) this.waiters.startPoll();
      this.events?.connectionRestored();
      return;
    }
  }

  async disconnect(snapshot: SessionSnapshot): Promise<void> {
    this.closing = true;
    this.waiters.clear();
    this.deathWatch.close();
    this.leading.clear();
    const client = this.client;
    try {
      await this.query(closeSessionStatement, [text(this.sessionKey), this.memberId, null]);
      await this.query(closeSessionStatement, [text(this.sessionKey), this.memberId, [...snapshot.groups.keys()]]);
    } finally {
      this.client = undefined;
      this.events = undefined;
      await client?.end().catch(() => undefined);
    }
  }

  async ping(): Promise<void> {
    await this.query(pingStatement, []);
  }

  async beat(request: BeatRequest): Promise<BeatReport> {
    const holdKeys = request.holds.map((ref) => this.keys.lock(ref.name));
    const lockKeys = [
      ...holdKeys,
      ...request.waiters.map((ref) => this.keys.lock(ref.name)),
      ...request.abandonedHolds.map((ref) => this.keys.lock(ref.name)),
    ];
    const leaderKeys = [...request.leaderships, ...request.abandonedLeaderships].map((g) => this.keys.leader(g));
    const [row] = await this.query<{
      lapsed: boolean;
      missing_groups: string[];
      lost_holds: string[];
      lost_leaderships: string[];
      granted: string[];
      fences: string[];
      requeue: string[];
    }>(
      beatStatement,
      [
        text(this.sessionKey),
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
      void this.query(collectGarbageStatement, []).catch(() => undefined);
    }
    let reconnected = false;
    if (request.liveness) {
      reconnected = this.reconnected;
      this.reconnected = false;
    }
    for (const groupId of row!.lost_leaderships) this.leading.delete(groupId);
    const report: BeatReport = {
      lapsed: row!.lapsed || reconnected,
      missingGroups: row!.missing_groups,
      lostHolds: row!.lost_holds,
      lostLeaderships: row!.lost_leaderships,
      grants: [],
    };
    const waiters = new Map(request.waiters.map((ref) => [ref.holder, ref]));
    row!.granted.forEach((holder, i) => {
      const ref = waiters.get(holder);
      if (!ref) return;
      this.waiters.forget(holder);
      report.grants.push({ ref, grant: grantOf(BigInt(row!.fences[i]!), this.leaseMs) });
    });
    for (const holder of row!.requeue) {
      const ref = waiters.get(holder);
      if (ref) void this.waiters.requeue(ref);
    }
    return report;
  }

  async watch(groupIds: ReadonlySet<string>): Promise<void> {
    this.watched = new Map([...groupIds].map((groupId) => [SchemaNames.groupTag(groupId), groupId]));
    const listen = groupIds.size > 0;
    if (listen === this.listeningEvents) return;
    const client = this.connected();
    await client.query(`${listen ? 'LISTEN' : 'UNLISTEN'} "${this.names.eventsChannel}"`);
    this.listeningEvents = listen;
  }

  private onNotification({ channel, payload = '' }: Notification): void {
    const events = this.events;
    if (!events) return;
    if (channel === this.names.eventsChannel) {
      const groupId = this.watched.get(payload.slice(1));
      if (groupId === undefined) return;
      if (payload[0] === 'l') events.leaderGone(groupId);
      else events.membersChanged(groupId);
      if (payload[0] === 'd' && this.leading.delete(groupId)) void this.leadershipDeleted(groupId);
      return;
    }
    if (payload[0] === 'w') {
      const holder = payload.slice(1);
      if (this.waiters.has(holder)) this.waiters.check(holder);
    } else if (payload[0] === 'b') {
      const space = payload.indexOf(' ');
      void this.broken(payload.slice(space + 1), BigInt(payload.slice(2, space)), payload[1] === '1');
    }
  }

  /** Another member deleted a group we led: let go of its leadership key, then tell the core. */
  private async leadershipDeleted(groupId: string): Promise<void> {
    this.events?.leadershipLost(groupId);
    const key = this.keys.leader(groupId);
    await this.query(letGoLeaderStatement, [text(this.sessionKey), groupId, text(key)], { keys: [key] }).catch(
      () => undefined,
    ); // the next election or beat lets go
  }

  /** Another session broke our hold: only we can unlock our advisory lock, and the breaker waits for it. */
  private async broken(holder: string, key: bigint, shared: boolean): Promise<void> {
    this.events?.holdLost(holder);
    await this.query(settleStatement, [text(this.sessionKey), text(key), shared], { keys: [key] }).catch(
      () => undefined,
    );
  }

  // ---- Locks ---------------------------------------------------------------------------

  async acquire(request: LockRequest): Promise<Grant | 'queued' | null> {
    const ref: HoldRef = { name: request.name, holder: request.holder, shared: request.shared };
    // Known before the request goes out: a wake-up may arrive before the answer is read.
    if (request.wait) this.waiters.expect(ref);
    const key = this.keys.lock(ref.name);
    let fence: bigint;
    let blocker: string | null;
    try {
      const [row] = await this.query<{ fence: string; blocker: string | null }>(
        acquireStatement,
        [text(this.sessionKey), ref.holder, text(key), ref.name, ref.shared, request.wait],
        { keys: [key] },
      );
      fence = BigInt(row!.fence);
      blocker = row!.blocker;
    } catch (error) {
      this.waiters.forget(ref.holder);
      throw error;
    }
    if (fence === 0n) {
      this.waiters.waitsFor(ref.holder, blocker === null ? null : BigInt(blocker));
      this.waiters.startPoll();
      return 'queued';
    }
    this.waiters.forget(ref.holder);
    return fence > 0n ? grantOf(fence, this.leaseMs) : null;
  }

  async withdraw(ref: HoldRef): Promise<Grant | null> {
    this.waiters.forget(ref.holder);
    const [row] = await this.query<{ fence: string }>(withdrawStatement, [text(this.sessionKey), ref.holder]);
    const fence = BigInt(row!.fence);
    return fence > 0n ? grantOf(fence, this.leaseMs) : null;
  }

  async release(ref: HoldRef): Promise<boolean> {
    const key = this.keys.lock(ref.name);
    // Failed, the hold is not believed either: the repair lets it go.
    const [row] = await this.query<{ released: boolean }>(releaseStatement, [text(this.sessionKey), ref.holder], {
      keys: [key],
      holders: [ref.holder],
    });
    return row!.released;
  }

  async isHeld(ref: HoldRef): Promise<boolean> {
    const [row] = await this.query<{ held: boolean }>(isHeldStatement, [text(this.sessionKey), ref.holder, ref.shared]);
    return row!.held;
  }

  async breakLock(name: string): Promise<boolean> {
    const key = this.keys.lock(name);
    const [row] = await this.query<{ was_held: boolean; own: string[]; others: string[] }>(
      breakLockStatement,
      [text(this.sessionKey), text(key)],
      { keys: [key] },
    );
    for (const holder of row!.own) this.events?.holdLost(holder);
    if (row!.others.length > 0) await this.query(waitReleasedStatement, [text(key), row!.others, BREAK_WAIT_MS]);
    return row!.was_held;
  }

  isConnectionError(error: unknown): boolean {
    return isConnectionError(error);
  }

  isTimeoutError(error: unknown): boolean {
    return isTimeoutError(error);
  }
}
