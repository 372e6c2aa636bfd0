/**
 * When Redis loses its data (docs/semantics.md, "Evictions and data loss"):
 * the next beat re-creates a vanished group this member had joined and not
 * left, rejoins it with the same capabilities, and elections run again, so
 * the application recovers without a restart. One test restarts a server of
 * its own without persistence (`SHUTDOWN NOSAVE`); one deletes a single
 * group key on the shared Redis, as an eviction under `maxmemory` would.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinationEvent, type Coordinator, getCoordinator, LockLost } from '../../lib/index.js';
import { REDIS, serverInUse } from '../support/servers.js';
import { testNamespace, uid } from '../support/drivers.js';
import { type OwnServer, OwnServers, redisServerAvailable, until } from './redis-servers.js';

const quiet = { logger: { log: () => undefined, warn: () => undefined, error: () => undefined } };
const available = redisServerAvailable();
if (!available && !process.env.CI) {
  console.warn(
    '\n*** redis-server is not installed: the Redis data-loss tests are SKIPPED (apt-get install redis-server)\n',
  );
}

/** Beat and run the watchers as the Nest heart would, until `stop` is called. */
function keepRunning(coordinators: Coordinator[], everyMs: number): () => Promise<void> {
  let running = true;
  const loops = coordinators.map(async (coordinator) => {
    while (running) {
      await coordinator.heartbeat().catch(() => undefined);
      await coordinator.runWatchers().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
  };
}

describe.runIf(available || Boolean(process.env.CI))('redis:// after the server restarted without persistence', () => {
  let servers: OwnServers;
  let server: OwnServer;
  const started: Coordinator[] = [];

  beforeAll(async () => {
    servers = new OwnServers();
    server = await servers.redis();
  });

  afterAll(async () => {
    for (const coordinator of started) if (coordinator.isStarted) await coordinator.stop().catch(() => undefined);
    await servers?.stopAll();
  });

  it('members re-create their group, rejoin with their capabilities and elect a leader again', async () => {
    const url = `redis://127.0.0.1:${server.port}/0?namespace=${uid('ns')}&timeout=2&socket_connect_timeout=1`;
    const group = uid('group');
    const [a, b] = [getCoordinator(url, uid('a'), quiet), getCoordinator(url, uid('b'), quiet)];
    started.push(a, b);
    for (const coordinator of [a, b]) await coordinator.start();
    await a.joinGroupCreate(group, { zone: 'a' });
    await b.joinGroupCreate(group, { zone: 'b' });
    for (const coordinator of [a, b]) await coordinator.watchElectedAsLeader(group, () => undefined);
    await a.runWatchers();
    await b.runWatchers();
    expect(await b.getLeader(group)).toBe(a.memberId);
    const lock = a.getLock(uid('lock'));
    expect(await lock.acquire({ blocking: false })).toBe(true);
    const events: CoordinationEvent[] = [];
    a.events$.subscribe((event) => events.push(event));

    server = await servers.restart(server);
    const stop = keepRunning([a, b], 100);
    try {
      await until(
        async () => {
          try {
            const members = await b.getMembersWithCapabilities(group);
            return members.size === 2 && (await b.getLeader(group)) !== null;
          } catch {
            return false; // still reconnecting, or the group not re-created yet
          }
        },
        10_000,
        'the group re-created with both members and a leader',
      );
    } finally {
      await stop();
    }
    expect(await a.getMembersWithCapabilities(group)).toEqual(
      new Map([
        [a.memberId, { zone: 'a' }],
        [b.memberId, { zone: 'b' }],
      ]),
    );
    const leader = await a.getLeader(group);
    expect([a.memberId, b.memberId]).toContain(leader);
    expect([a, b].filter((coordinator) => coordinator.isLeaderOf(group)).map((c) => c.memberId)).toEqual([leader]);
    // The hold vanished with the data: its holder was told, and does not believe it any more.
    expect(lock.isHeld).toBe(false);
    expect(events.some((event) => event instanceof LockLost && event.name === lock.name)).toBe(true);
  }, 20_000);
});

describe('redis:// after one group key was evicted', async () => {
  const inUse = await serverInUse(REDIS);
  const admin = inUse ? new Redis({ host: REDIS.host, port: REDIS.port, lazyConnect: true }) : undefined;
  const started: Coordinator[] = [];

  afterEach(async () => {
    for (const coordinator of started.splice(0)) await coordinator.stop().catch(() => undefined);
  });
  afterAll(() => admin?.disconnect());

  it.runIf(inUse)('the next beat re-creates the group and rejoins it, with the same capabilities', async () => {
    const namespace = testNamespace();
    const url = `redis://${REDIS.host}:${REDIS.port}/0?namespace=${namespace}`;
    const group = uid('group');
    const member = getCoordinator(url, uid('m'), quiet);
    started.push(member);
    await member.start();
    await member.joinGroupCreate(group, { weight: 3 });
    await admin!.del(`${namespace}_group:${group}`, `${namespace}_info:${group}`);
    await admin!.srem(`${namespace}_groups`, group);
    await expect(member.getMembers(group)).rejects.toThrow(/not.*created|does not exist/i);

    await member.heartbeat();
    expect(await member.getMembersWithCapabilities(group)).toEqual(new Map([[member.memberId, { weight: 3 }]]));
    expect(await member.getGroups()).toContain(group);
    expect(member.groups).toEqual(new Set([group]));
  });
});
