/**
 * What the redis:// driver costs on the wire, counted by a TCP proxy in front
 * of the local Redis (test/redis/tcp-proxy.ts): uncontended acquire + release
 * is two round trips, a beat is one however much is held, and a hand-off
 * costs the releaser one and the woken waiter one. Plus FIFO order with
 * several waiters queued when the releasing holder asks again at once.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Coordinator, getCoordinator } from '../../lib/index.js';
import { testNamespace, uid } from '../support/drivers.js';
import { REDIS, serverInUse } from '../support/servers.js';
import { TcpProxy } from './tcp-proxy.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(await serverInUse(REDIS))('redis:// round trips and queue order', () => {
  let raw: Redis;
  const made: Coordinator[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    raw = new Redis({ host: REDIS.host, port: REDIS.port, lazyConnect: true });
    await raw.connect();
  });

  afterAll(() => raw?.disconnect());

  afterEach(async () => {
    for (const c of made.splice(0)) if (c.isStarted) await c.stop().catch(() => undefined);
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  /** A started coordinator whose every byte goes through its own counting proxy. */
  async function proxied(namespace: string, query = ''): Promise<{ c: Coordinator; proxy: TcpProxy }> {
    const proxy = await new TcpProxy({ host: REDIS.host, port: REDIS.port }).start();
    proxies.push(proxy);
    const c = getCoordinator(`redis://127.0.0.1:${proxy.port}/0?namespace=${namespace}${query}`, uid('member'));
    made.push(c);
    await c.start();
    // The scripts are loaded (EVALSHA → NOSCRIPT → EVAL happens once per Redis, not per call) before counting.
    const warm = c.getLock(uid('warm-up'));
    await warm.acquire({ blocking: false });
    await warm.release();
    await c.heartbeat();
    proxy.reset();
    return { c, proxy };
  }

  it('the shared Redis has no replicas (else every acquire would pipeline a WAIT, still one round trip)', async () => {
    expect(await raw.info('replication')).toMatch(/connected_slaves:0/);
  });

  it('uncontended acquire + release: 2 round trips', async () => {
    const { c, proxy } = await proxied(testNamespace());
    const lock = c.getLock(uid('lock'));
    expect(await lock.acquire()).toBe(true);
    expect(proxy.roundTrips, proxy.bursts.join('\n')).toBe(1);
    expect(await lock.release()).toBe(true);
    expect(proxy.roundTrips, proxy.bursts.join('\n')).toBe(2);
    // Shared holds cost the same.
    proxy.reset();
    expect(await lock.acquire({ shared: true })).toBe(true);
    expect(await lock.release()).toBe(true);
    expect(proxy.roundTrips, proxy.bursts.join('\n')).toBe(2);
  });

  it.each([1, 100])(
    'one heartbeat() with %i held lock(s), a leadership and three groups: 1 round trip, and everything is renewed',
    async (count) => {
      const namespace = testNamespace();
      const { c, proxy } = await proxied(namespace, '&timeout=30');
      const groups = [uid('g'), uid('g'), uid('g')];
      for (const group of groups) await c.joinGroupCreate(group);
      await c.watchElectedAsLeader(groups[0]!, () => undefined);
      await c.runWatchers();
      expect(c.isLeaderOf(groups[0]!)).toBe(true);
      const names = Array.from({ length: count }, () => uid('lock'));
      for (const name of names) expect(await c.getLock(name).acquire({ blocking: false })).toBe(true);
      await sleep(300); // let the leases run down, so a renewal shows

      const watched = [
        `${namespace}_beats:${c.memberId}`,
        `${namespace}_leader_of_${groups[0]}_lock`,
        `${namespace}_${names[0]}_lock`,
        `${namespace}_${names.at(-1)}_lock`,
      ];
      const before = await Promise.all(watched.map((key) => raw.pttl(key)));
      for (const ttl of before) expect(ttl).toBeLessThan(29_750);
      proxy.reset();
      const nextMs = await c.heartbeat();
      expect(proxy.roundTrips, proxy.bursts.join('\n')).toBe(1);
      expect(nextMs).toBeLessThanOrEqual(15_000);
      const after = await Promise.all(watched.map((key) => raw.pttl(key)));
      for (const [i, ttl] of after.entries()) expect(ttl, watched[i]).toBeGreaterThan(before[i]! + 200);
    },
  );

  it('a hand-off: the release is 1 round trip for the holder, and the woken waiter spends 1 (its confirm)', async () => {
    const namespace = testNamespace();
    const holder = await proxied(namespace);
    const waiter = await proxied(namespace);
    const name = uid('lock');
    const held = holder.c.getLock(name);
    expect(await held.acquire()).toBe(true);
    const waiting = waiter.c.getLock(name).acquire({ timeoutMs: 5_000 });
    await sleep(50);
    expect(waiter.proxy.roundTrips).toBe(1); // queued in one script
    waiter.proxy.reset();
    holder.proxy.reset();
    expect(await held.release()).toBe(true);
    expect(await waiting).toBe(true);
    expect(holder.proxy.roundTrips, holder.proxy.bursts.join('\n')).toBe(1);
    expect(waiter.proxy.roundTrips, waiter.proxy.bursts.join('\n')).toBe(1);
  });

  it('with several waiters queued, a releasing holder that at once asks again is served after every one of them', async () => {
    const namespace = testNamespace();
    const url = `redis://127.0.0.1:6379/0?namespace=${namespace}`;
    const many: Coordinator[] = [];
    for (let i = 0; i < 5; i++) {
      const c = getCoordinator(url, uid(`member${i}`));
      made.push(c);
      await c.start();
      many.push(c);
    }
    const name = uid('lock');
    const [holder, ...waiters] = many.map((c) => c.getLock(name));
    expect(await holder!.acquire()).toBe(true);
    const order: string[] = [];
    const done: Promise<void>[] = [];
    for (const [index, waiter] of waiters.entries()) {
      done.push(
        waiter.acquire({ timeoutMs: 10_000 }).then(async (acquired) => {
          expect(acquired).toBe(true);
          order.push(`waiter${index}`);
          await sleep(5);
          expect(await waiter.release()).toBe(true);
        }),
      );
      await sleep(20); // each wait arrives before the next
    }
    expect(await holder!.release()).toBe(true);
    const again = holder!.acquire({ timeoutMs: 10_000 }).then((acquired) => {
      order.push('holder again');
      return acquired;
    });
    await Promise.all(done);
    expect(await again).toBe(true);
    expect(order).toEqual(['waiter0', 'waiter1', 'waiter2', 'waiter3', 'holder again']);
    expect(await holder!.release()).toBe(true);
  });
});
