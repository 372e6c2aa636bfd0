/**
 * On the real Redis, a process that dies costs no lease (docs/redis.md#failover).
 * Each coordinator subscribes to its own session channel; Redis drops the
 * subscription with the connection, and the others' scripts, seeing
 * `PUBSUB NUMSUB` of that channel at 0 for the grace (docs/redis.md#failover),
 * free its locks, drop it from its groups and hand its leadership on. Every
 * test runs at the default 30 s timeouts, so no lease running out can explain
 * a failover seen in seconds.
 */
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type CoordinationEvent,
  type Coordinator,
  getCoordinator,
  LeaderElected,
  LeadershipLost,
  LockLost,
  MemberLeftGroup,
} from '../../lib/index.js';
import { UNSUBSCRIBED_GRACE_MS } from '../../lib/drivers/redis/scripts/session-liveness.js';
import { type ChildCoordinator, killChildCoordinators, spawnChildCoordinator } from '../support/child-coordinator.js';
import { type CompiledLib, compileLib } from '../support/compiled-lib.js';
import { redisDriver, uid } from '../support/drivers.js';
import { REDIS, serverInUse } from '../support/servers.js';

/** The default lease (tooz's `timeout`, 30 s): a failover must come far sooner. */
const LEASE_MS = 30_000;
/** How often the Nest heart runs `runWatchers()` by default. */
const WATCHER_INTERVAL_MS = 1_000;
/**
 * The grace plus two watcher intervals (the first run to see the channel
 * empty starts the grace, the run after it ends takes over) and a few round
 * trips, generously.
 */
const FAILOVER_MS = UNSUBSCRIBED_GRACE_MS + 2 * WATCHER_INTERVAL_MS + 1_000;
/** An answer that does not wait for any interval. */
const AT_ONCE_MS = 500;

const since = (start: number) => performance.now() - start;

describe.runIf(await serverInUse(REDIS))('redis:// when a process dies or its connections are killed', () => {
  let lib: CompiledLib;
  const started: Coordinator[] = [];
  const timers: NodeJS.Timeout[] = [];
  const subscriptions: { unsubscribe(): void }[] = [];

  beforeAll(async () => {
    lib = await compileLib();
  }, 120_000);
  afterEach(async () => {
    for (const timer of timers.splice(0)) clearInterval(timer);
    for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
    await killChildCoordinators();
    for (const coordinator of started.splice(0)) if (coordinator.isStarted) await coordinator.stop();
  });
  afterAll(() => lib?.remove());

  /** A namespace of this test's own (deleted after the file), at the default timeouts. */
  function testUrl(): string {
    const url = redisDriver.isolatedUrl!();
    expect(url).not.toMatch(/timeout/);
    return url;
  }

  async function startParent(url: string, memberId = uid('parent')): Promise<Coordinator> {
    const coordinator = getCoordinator(url, memberId);
    started.push(coordinator);
    await coordinator.start();
    return coordinator;
  }

  function record(coordinator: Coordinator): CoordinationEvent[] {
    const events: CoordinationEvent[] = [];
    subscriptions.push(coordinator.events$.subscribe((event) => events.push(event)));
    return events;
  }

  /** A child that has joined `groupId`, holds `lockName` and leads `groupId`. */
  async function leadingChild(url: string, groupId: string, lockName: string): Promise<ChildCoordinator> {
    const child = await spawnChildCoordinator(lib, url, uid('child'));
    await child.start();
    await child.joinGroup(groupId, { role: 'child' });
    expect(await child.acquire(lockName, { blocking: false })).toBe(true);
    await child.watchElectedAsLeader(groupId);
    expect(await child.runWatchers()).toEqual(['LeaderElected']);
    return child;
  }

  it('SIGKILL of a leader child: the next watcher run sees it leave and takes over its leadership', async () => {
    const url = testUrl();
    const groupId = uid('group');
    const parent = await startParent(url);
    await parent.createGroup(groupId);
    const child = await leadingChild(url, groupId, uid('lock'));
    const events = record(parent);
    await parent.watchLeaveGroup(groupId, () => undefined);
    await parent.watchElectedAsLeader(groupId, () => undefined);
    await parent.runWatchers();
    expect(await parent.getLeader(groupId)).toBe(child.memberId);
    expect(await parent.getMembers(groupId)).toEqual(new Set([child.memberId]));

    // The Nest heart's watcher loop, at its default interval.
    timers.push(setInterval(() => void parent.runWatchers().catch(() => undefined), WATCHER_INTERVAL_MS));
    const killedAt = performance.now();
    expect(await child.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const seen = (type: typeof LeaderElected | typeof MemberLeftGroup, memberId: string) =>
      events.some((e) => e instanceof type && e.memberId === memberId);
    await waitFor(() => seen(LeaderElected, parent.memberId) && seen(MemberLeftGroup, child.memberId), LEASE_MS / 2);
    const failoverMs = since(killedAt);

    // Exactly these two, in whichever runs they came (the election can win a run before the members are read).
    expect(events).toHaveLength(2);
    expect(events).toEqual(
      expect.arrayContaining([
        new MemberLeftGroup(groupId, child.memberId),
        new LeaderElected(groupId, parent.memberId),
      ]),
    );
    expect(failoverMs, 'the grace and two watcher intervals, not the 30 s lease').toBeLessThan(FAILOVER_MS);
    expect(await parent.getLeader(groupId)).toBe(parent.memberId);
    expect(await parent.getMembers(groupId)).toEqual(new Set());
  });

  it('SIGKILL of a child holding a lock: a blocked waiter gets it well before the 30 s lease', async () => {
    const url = testUrl();
    const lockName = uid('lock');
    const parent = await startParent(url);
    const child = await spawnChildCoordinator(lib, url, uid('child'));
    await child.start();
    expect(await child.acquire(lockName, { blocking: false })).toBe(true);
    const childToken = await child.fencingToken(lockName);

    const lock = parent.getLock(lockName);
    let gotAt = Number.NaN;
    // Waits longer than the bound below, far less than the lease: only the holder's death can explain a grant.
    const waiter = lock.acquire({ timeoutMs: 3 * FAILOVER_MS }).then((got) => ((gotAt = performance.now()), got));
    await sleep(100);
    expect(lock.isHeld, 'the child holds the lock: the waiter queues').toBe(false);

    const killedAt = performance.now();
    await child.kill('SIGKILL');
    expect(await waiter, 'the waiter got the dead holder’s lock').toBe(true);
    expect(gotAt - killedAt, 'the grant came well before the 30 s lease').toBeLessThan(FAILOVER_MS);
    expect(lock.fencingToken! > childToken!).toBe(true);
    expect(await lock.isStillOwner()).toBe(true);
  });

  it('a leader child that stops gracefully hands over at once: one runWatchers() wins', async () => {
    const url = testUrl();
    const groupId = uid('group');
    const lockName = uid('lock');
    const parent = await startParent(url);
    await parent.createGroup(groupId);
    const child = await leadingChild(url, groupId, lockName);
    const events = record(parent);
    await parent.watchLeaveGroup(groupId, () => undefined);
    await parent.watchElectedAsLeader(groupId, () => undefined);
    await parent.runWatchers();
    expect(await parent.getLeader(groupId)).toBe(child.memberId);

    const waiter = parent.getLock(lockName).acquire({ timeoutMs: LEASE_MS / 2 });
    await child.stop();
    const stoppedAt = performance.now();
    await parent.runWatchers();
    const handoverMs = since(stoppedAt);
    expect(events).toContainEqual(new LeaderElected(groupId, parent.memberId));
    expect(events).toContainEqual(new MemberLeftGroup(groupId, child.memberId));
    expect(handoverMs).toBeLessThan(AT_ONCE_MS);
    expect(await waiter).toBe(true);
    expect(since(stoppedAt)).toBeLessThan(AT_ONCE_MS);
    await child.kill();
  });

  it('CLIENT KILL of a coordinator’s connections: locks and leadership reported lost, membership back after the next beat, the lock retaken, no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const admin = new Redis({ host: REDIS.host, port: REDIS.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await admin.connect();
      const url = testUrl();
      const groupId = uid('group');
      const lockName = uid('lock');
      const observer = await startParent(url, uid('observer'));
      await observer.createGroup(groupId);

      const before = redisSockets();
      const member = await startParent(url, uid('member'));
      const ports = [...redisSockets()].filter((port) => !before.has(port));
      const ids = await clientIds(admin, ports);
      expect(ids, `the member's two connections (local ports ${ports.join(', ')})`).toHaveLength(2);

      const events = record(member);
      await member.joinGroup(groupId, { role: 'member' });
      await member.watchElectedAsLeader(groupId, () => undefined);
      await member.runWatchers();
      expect(await observer.getLeader(groupId)).toBe(member.memberId);
      const lock = member.getLock(lockName);
      expect(await lock.acquire({ blocking: false })).toBe(true);

      for (const id of ids) expect(await admin.call('CLIENT', 'KILL', 'ID', id)).toBe(1);
      // The observer looks while the member is away (ioredis reconnects after 100 ms): its session channel
      // has no subscriber, but within the grace it keeps the member (it may be back, as here).
      expect(await observer.getMembers(groupId)).toEqual(new Set([member.memberId]));

      const lost = await waitFor(() => events.find((e) => e instanceof LockLost), 5_000);
      expect(lost).toEqual(new LockLost(lockName, member.memberId));
      expect(events).toContainEqual(new LeadershipLost(groupId, member.memberId));
      expect(lock.isHeld).toBe(false);

      // Back: the next beat lets the lost hold go (and would rejoin what was pruned).
      await waitFor(
        () =>
          member.heartbeat().then(
            () => true,
            () => false,
          ),
        5_000,
      );
      expect(await observer.getMembers(groupId)).toEqual(new Set([member.memberId]));
      expect(await observer.getMemberCapabilities(groupId, member.memberId)).toEqual({ role: 'member' });
      expect(await lock.acquire({ blocking: false }), 'the lost lock can be retaken').toBe(true);
      expect(await observer.getLock(lockName).acquire({ blocking: false })).toBe(false);
      expect(await lock.release()).toBe(true);
      await member.runWatchers();
      expect(await observer.getLeader(groupId)).toBe(member.memberId);

      await sleep(200);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      admin.disconnect();
    }
  });
});

/** Local ports of this process's open TCP connections to Redis. */
function redisSockets(): Set<number> {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return new Set(
    handles
      .filter((h): h is Socket => h instanceof Socket && h.remotePort === REDIS.port && h.localPort !== undefined)
      .map((socket) => socket.localPort!),
  );
}

/** Redis client ids of the connections from these local ports (`CLIENT LIST`'s `addr`). */
async function clientIds(admin: Redis, ports: number[]): Promise<string[]> {
  const list = (await admin.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], port: Number(/\baddr=[^ ]*:(\d+)/.exec(line)?.[1]) }))
    .filter(({ id, port }) => id !== undefined && ports.includes(port))
    .map(({ id }) => id!);
}

async function waitFor<T>(check: () => T | Promise<T>, withinMs: number): Promise<NonNullable<T>> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`not seen within ${withinMs} ms`);
    await sleep(10);
  }
}
