/**
 * docs/redis.md#failover on a redis-server of this test's own: a coordinator
 * whose subscriber connection is down (or not subscribed again yet) is
 * granted nothing and elected nowhere, ends what it had at once, and others
 * take over only after the grace. The subscriber is killed by `CLIENT KILL`
 * and kept out by `maxclients` (set on our own server only).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UNSUBSCRIBED_GRACE_MS } from '../../lib/drivers/redis/scripts/session-liveness.js';
import { type CoordinationEvent, type Coordinator, getCoordinator, LeadershipLost, LockLost } from '../../lib/index.js';
import { uid } from '../support/drivers.js';
import { type OwnServer, OwnServers, redisServerAvailable, until } from './redis-servers.js';

const available = redisServerAvailable();

describe.runIf(available || Boolean(process.env.CI))('redis:// while a session channel has no subscriber', () => {
  let servers: OwnServers;
  let server: OwnServer;
  let admin: Redis;
  const started: Coordinator[] = [];

  beforeAll(async () => {
    servers = new OwnServers();
    server = await servers.redis();
    admin = server.client();
  }, 20_000);
  afterEach(async () => {
    await admin.config('SET', 'maxclients', '10000');
    for (const coordinator of started.splice(0)) if (coordinator.isStarted) await coordinator.stop().catch(() => 0);
  });
  afterAll(async () => servers?.stopAll());

  /** At the default 30 s timeouts: no lease or beat can explain what these tests see. */
  async function start(namespace: string, name: string): Promise<Coordinator> {
    const coordinator = getCoordinator(`redis://127.0.0.1:${server.port}?namespace=${namespace}`, uid(name));
    started.push(coordinator);
    await coordinator.start();
    return coordinator;
  }

  /** Redis client ids of the subscriber connections present now (`CLIENT SETNAME …:subscriber`). */
  async function subscribers(): Promise<Set<string>> {
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    return new Set(
      list
        .split('\n')
        .filter((line) => /\bname=nestjs-coordination:[0-9a-f]{32}:subscriber\b/.test(line))
        .map((line) => /\bid=(\d+)/.exec(line)![1]!),
    );
  }

  /** Kill `id` and keep every new connection out (maxclients at the count left). */
  async function killAndHoldOut(id: string): Promise<void> {
    const connected = ((await admin.call('CLIENT', 'LIST')) as string).trim().split('\n').length;
    await admin.config('SET', 'maxclients', String(connected - 1));
    expect(await admin.call('CLIENT', 'KILL', 'ID', id)).toBe(1);
  }

  function record(coordinator: Coordinator): CoordinationEvent[] {
    const events: CoordinationEvent[] = [];
    coordinator.events$.subscribe((event) => events.push(event));
    return events;
  }

  it('a member whose subscriber is killed and held out loses its lock and leadership at once, is granted and elected nothing, and the other takes over only after the grace', async () => {
    const namespace = uid('ns');
    const lockName = uid('lock');
    const groupId = uid('group');
    const a = await start(namespace, 'a');
    const aSubscriber = [...(await subscribers())];
    expect(aSubscriber).toHaveLength(1);
    const b = await start(namespace, 'b');
    for (const c of [a, b]) {
      await c.joinGroupCreate(groupId);
      await c.watchElectedAsLeader(groupId, () => undefined);
    }
    const aLock = a.getLock(lockName);
    const bLock = b.getLock(lockName);
    expect(await aLock.acquire({ blocking: false })).toBe(true);
    await a.runWatchers();
    await b.runWatchers();
    expect(a.isLeaderOf(groupId)).toBe(true);
    const events = record(a);

    await killAndHoldOut(aSubscriber[0]!);
    const killedAt = performance.now();
    await until(() => events.some((e) => e instanceof LockLost), 2_000, 'LockLost on a');
    expect(events).toContainEqual(new LockLost(lockName, a.memberId));
    expect(events).toContainEqual(new LeadershipLost(groupId, a.memberId));
    expect(aLock.isHeld).toBe(false);
    expect(a.isLeaderOf(groupId)).toBe(false);

    // Never two believers: sample both sides while each tries, until well past the grace.
    const overlaps: string[] = [];
    let bGotItAt = Number.NaN;
    let bLedAt = Number.NaN;
    while (performance.now() - killedAt < UNSUBSCRIBED_GRACE_MS + 1_500) {
      await aLock.acquire({ blocking: false }).catch(() => false);
      await a.runWatchers().catch(() => undefined);
      if (!bLock.isHeld && (await bLock.acquire({ blocking: false }))) bGotItAt = performance.now();
      await b.runWatchers();
      if (b.isLeaderOf(groupId) && Number.isNaN(bLedAt)) bLedAt = performance.now();
      if (aLock.isHeld && bLock.isHeld) overlaps.push('lock');
      if (a.isLeaderOf(groupId) && b.isLeaderOf(groupId)) overlaps.push('leadership');
      expect(aLock.isHeld, 'a is granted nothing while unsubscribed').toBe(false);
      expect(a.isLeaderOf(groupId), 'a is elected nowhere while unsubscribed').toBe(false);
      await sleep(50);
    }
    expect(overlaps).toEqual([]);
    expect(bLock.isHeld).toBe(true);
    expect(b.isLeaderOf(groupId)).toBe(true);
    // Not before the grace: a member's own drop must reach it before others act on it.
    expect(bGotItAt - killedAt).toBeGreaterThanOrEqual(UNSUBSCRIBED_GRACE_MS - 50);
    expect(bLedAt - killedAt).toBeGreaterThanOrEqual(UNSUBSCRIBED_GRACE_MS - 50);

    // Let back in: a subscribes again and is granted again once b lets go.
    await admin.config('SET', 'maxclients', '10000');
    expect(await bLock.release()).toBe(true);
    await until(() => aLock.acquire({ blocking: false }).catch(() => false), 5_000, 'a locks again');
    expect(bLock.isHeld).toBe(false);
  }, 20_000);

  it('CLIENT KILL TYPE pubsub, repeatedly, while both hammer one lock and one election: never two believers', async () => {
    const namespace = uid('ns');
    const lockName = uid('lock');
    const groupId = uid('group');
    const coordinators = [await start(namespace, 'a'), await start(namespace, 'b')];
    const locks = coordinators.map((c) => c.getLock(lockName));
    for (const c of coordinators) {
      await c.joinGroupCreate(groupId);
      await c.watchElectedAsLeader(groupId, () => undefined);
    }
    const overlaps: string[] = [];
    let stop = false;
    // A critical section ends when its release() is called (isHeld turns false only once it answers).
    const inside = [false, false];
    const check = () => {
      if (locks.every((lock, i) => inside[i] && lock.isHeld)) overlaps.push(`lock at ${performance.now().toFixed(0)}`);
      if (coordinators.every((c) => c.isLeaderOf(groupId))) overlaps.push(`leader at ${performance.now().toFixed(0)}`);
    };
    const hammer = coordinators.map(async (c, i) => {
      while (!stop) {
        const lock = locks[i]!;
        if (!lock.isHeld && (await lock.acquire({ blocking: false }).catch(() => false))) {
          inside[i] = true;
          check();
          await sleep(20);
          check();
          inside[i] = false;
          await lock.release().catch(() => false);
        }
        await c.runWatchers().catch(() => undefined);
        check();
        await sleep(5);
      }
    });
    let kills = 0;
    for (let round = 0; round < 6; round++) {
      await sleep(300);
      kills += Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
    }
    await sleep(UNSUBSCRIBED_GRACE_MS);
    stop = true;
    await Promise.all(hammer);
    expect(kills).toBeGreaterThanOrEqual(6);
    expect(overlaps).toEqual([]);
  }, 30_000);
});
