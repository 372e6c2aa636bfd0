/**
 * redis:// through Sentinel, on servers of this test's own (a primary, one
 * replica and one sentinel on free loopback ports, killed by pid at the end):
 * the coordinator finds the primary through the sentinel, a grant is reported
 * only once the replica has it (WAIT), and after a failover the coordinator
 * follows the new primary and works again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNSUBSCRIBED_GRACE_MS } from '../../lib/drivers/redis/scripts/session-liveness.js';
import { type Coordinator, getCoordinator } from '../../lib/index.js';
import { uid } from '../support/drivers.js';
import { type OwnServer, OwnServers, redisServerAvailable, until } from './redis-servers.js';

const available = redisServerAvailable();
if (!available && !process.env.CI) {
  console.warn(
    '\n*** redis-server is not installed: the Sentinel tests are SKIPPED.\n' +
      '*** Install it with: apt-get install redis-server\n',
  );
}

const MASTER = 'ncmaster';

describe.runIf(available || Boolean(process.env.CI))('redis:// with Sentinel and a replica', () => {
  let servers: OwnServers;
  let primary: OwnServer;
  let replica: OwnServer;
  let sentinel: OwnServer;
  let coordinator: Coordinator;
  const namespace = uid('nctest');
  const group = uid('group');

  beforeAll(async () => {
    servers = new OwnServers();
    primary = await servers.redis();
    replica = await servers.redis(['--replicaof', '127.0.0.1', String(primary.port)]);
    const replicaClient = replica.client();
    await until(
      async () => /master_link_status:up/.test(await replicaClient.info('replication')),
      20_000,
      'replica synced',
    );
    // Started once the replica is attached, the sentinel learns of it from its first INFO.
    sentinel = await servers.sentinel(MASTER, primary.port);
    const sentinelClient = sentinel.client();
    await until(
      async () => {
        const replicas = (await sentinelClient.call('SENTINEL', 'REPLICAS', MASTER)) as string[][];
        return replicas.some((fields) => fields.includes(String(replica.port)));
      },
      5_000,
      'sentinel sees the replica',
    );
    coordinator = getCoordinator(
      `redis://127.0.0.1:${sentinel.port}?sentinel=${MASTER}&namespace=${namespace}&timeout=5&socket_connect_timeout=2`,
      uid('member'),
    );
    await coordinator.start();
  }, 20_000);

  afterAll(async () => {
    if (coordinator?.isStarted) await coordinator.stop().catch(() => undefined);
    await servers?.stopAll();
  });

  const lockKey = (name: string) => `${namespace}_${name}_lock`;

  it('finds the primary through the sentinel: join and lock work there', async () => {
    await coordinator.joinGroupCreate(group, { role: 'sentinel-test' });
    expect(await coordinator.getMembers(group)).toEqual(new Set([coordinator.memberId]));
    const lock = coordinator.getLock(uid('lock'));
    expect(await lock.acquire({ blocking: false })).toBe(true);
    expect(await primary.client().exists(lockKey(lock.name), `${namespace}_group:${group}`)).toBe(2);
    expect(await lock.release()).toBe(true);
  });

  it('a grant is reported only once the replica has it: the acquire waits for a paused replica', async () => {
    const lock = coordinator.getLock(uid('lock'));
    const replicaClient = replica.client();
    process.kill(replica.process.pid!, 'SIGSTOP');
    let resumedAt = 0;
    const resume = setTimeout(() => {
      resumedAt = performance.now();
      process.kill(replica.process.pid!, 'SIGCONT');
    }, 300);
    try {
      const acquired = await lock.acquire({ blocking: false });
      const grantedAt = performance.now();
      expect(acquired).toBe(true);
      // Reported after the replica came back, not while it could not have the key.
      expect(resumedAt).toBeGreaterThan(0);
      expect(grantedAt).toBeGreaterThanOrEqual(resumedAt);
      // Right after the grant, the replica's data holds it.
      expect(await replicaClient.get(lockKey(lock.name))).not.toBeNull();
    } finally {
      clearTimeout(resume);
      process.kill(replica.process.pid!, 'SIGCONT');
    }
    expect(await lock.release()).toBe(true);
  });

  // A grant no replica acknowledged within wait_timeout is handed back and the acquire fails:
  // a failover then cannot give the same lock to a second holder.
  it('a grant no replica acknowledged within wait_timeout is not reported as held', async () => {
    const name = uid('lock');
    process.kill(replica.process.pid!, 'SIGSTOP');
    try {
      const acquired = await coordinator
        .getLock(name)
        .acquire({ blocking: false })
        .catch(() => false);
      expect(acquired).toBe(false);
    } finally {
      process.kill(replica.process.pid!, 'SIGCONT');
      await coordinator.getLock(name).break();
    }
  });

  // A renewal is acknowledged as a grant is: one no replica has could be lost by a failover, so the beat
  // fails and the hold's belief ends with the lease of the last acknowledged renewal.
  it('a beat whose renewals no replica acknowledged within wait_timeout fails', async () => {
    const lock = coordinator.getLock(uid('lock'));
    expect(await lock.acquire({ blocking: false })).toBe(true);
    process.kill(replica.process.pid!, 'SIGSTOP');
    try {
      await expect(coordinator.heartbeat()).rejects.toThrow(/0 of 1 replicas acknowledged/);
      await expect(lock.heartbeat()).rejects.toThrow(/0 of 1 replicas acknowledged/);
    } finally {
      process.kill(replica.process.pid!, 'SIGCONT');
    }
    expect(await coordinator.heartbeat()).toBeGreaterThan(0);
    expect(await lock.release()).toBe(true);
    // Paused past down-after-milliseconds, the replica must look healthy to the sentinel again before the
    // failover test (else: NOGOODSLAVE).
    const sentinelClient = sentinel.client();
    await until(
      async () => {
        const replicas = (await sentinelClient.call('SENTINEL', 'REPLICAS', MASTER)) as string[][];
        const fields = replicas.find((f) => f.includes(String(replica.port))) ?? [];
        const flags = fields[fields.indexOf('flags') + 1] ?? '';
        return flags === 'slave' && fields[fields.indexOf('master-link-status') + 1] === 'ok';
      },
      10_000,
      'the sentinel sees the replica healthy again',
    );
  }, 20_000);

  /** What happened in the failover test, for the known-bug test after it. */
  const failover = { staleGrant: undefined as boolean | undefined };

  it('after SENTINEL FAILOVER, the coordinator follows the new primary and works again', async () => {
    const sentinelClient = sentinel.client();
    const before = (await sentinelClient.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER)) as string[];
    expect(before[1]).toBe(String(primary.port));
    const held = coordinator.getLock(uid('lock'));
    expect(await held.acquire({ blocking: false })).toBe(true);

    expect(await sentinelClient.call('SENTINEL', 'FAILOVER', MASTER)).toBe('OK');
    const newPrimary = replica.client();
    await until(async () => /role:master/.test(await newPrimary.info('replication')), 10_000, 'replica promoted');
    await until(
      async () =>
        ((await sentinelClient.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER)) as string[])[1] ===
        String(replica.port),
      10_000,
      'the sentinel names the replica as primary',
    );
    // The grant made before the failover was acknowledged by the replica (WAIT): the new primary has it.
    expect(await newPrimary.get(lockKey(held.name))).not.toBeNull();

    // Right after the promotion: may this coordinator, if still on the demoted primary, be granted
    // a lock that a coordinator that asked the sentinel afresh holds on the new primary?
    const contested = uid('lock');
    const fresh = getCoordinator(
      `redis://127.0.0.1:${sentinel.port}?sentinel=${MASTER}&namespace=${namespace}&timeout=5`,
      uid('fresh'),
    );
    await fresh.start();
    try {
      // The held lock's session subscribed on the demoted primary: the new one's NUMSUB of its channel is 0,
      // but it records another node's run id, so only the lease may end that hold (docs/redis.md#failover).
      // The first look starts the grace, the second comes after it.
      expect(await fresh.getLock(held.name).acquire({ blocking: false })).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, UNSUBSCRIBED_GRACE_MS + 100));
      expect(
        await fresh.getLock(held.name).acquire({ blocking: false }),
        'a hold made through the old primary is not reaped on the new one',
      ).toBe(false);
      const onNew = await fresh.getLock(contested).acquire({ blocking: false });
      expect(onNew).toBe(true);
      expect(await newPrimary.exists(lockKey(contested))).toBe(1);
      const ours = await coordinator
        .getLock(contested)
        .acquire({ blocking: false })
        .catch(() => false);
      failover.staleGrant = ours;
      expect(typeof ours).toBe('boolean');
    } finally {
      await fresh.stop();
    }

    // Back on its feet through the sentinel: it beats, its membership is there, it locks on the new primary.
    const since = performance.now();
    await until(
      async () => {
        const lock = coordinator.getLock(uid('lock'));
        const ok = await lock.acquire({ blocking: false }).catch(() => false);
        return ok && (await newPrimary.exists(lockKey(lock.name))) === 1;
      },
      15_000,
      'a lock lands on the new primary',
    );
    console.info(`redis:// followed the Sentinel failover after ${(performance.now() - since).toFixed(0)} ms`);
    expect(await coordinator.heartbeat()).toBeGreaterThan(0);
    expect(await coordinator.getMembers(group)).toEqual(new Set([coordinator.memberId]));
    expect(await newPrimary.hexists(`${namespace}_group:${group}`, coordinator.memberId)).toBe(1);
  }, 30_000);

  // Until the coordinator follows the new primary, a grant on the demoted primary is never reported:
  // no replica acknowledges it (WAIT), so it is handed back and the acquire fails. No second holder.
  it('during a failover, no lock is granted on the demoted primary (two holders)', () => {
    expect(failover.staleGrant).toBe(false);
  });
});
