import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  CoordinationError,
  Coordinator,
  CoordinatorConnectionError,
  getCoordinator,
  LeadershipLost,
  LockLost,
  registerDriver,
} from '../../lib/index.js';
import { drivers } from '../support/drivers.js';
import { failing, failingUrl } from '../support/failing-driver.js';
import { driverTraits, isSettled, nextEvent, now, since, sleep, uid, useCoordinators } from './harness.js';

describe.each(drivers)('lifecycle on $name', (driver) => {
  const traits = driverTraits(driver);
  const coordinators = useCoordinators(driver);

  it.skipIf(!traits.distributedAcrossHosts)(
    'test_connection_error_bad_host: start() fails with CoordinatorConnectionError (skipped unless DISTRIBUTED_ACROSS_HOSTS)',
    async () => {
      const c = getCoordinator(`${traits.scheme}://localhost:1/f00`, uid('member'));
      const started = now();
      await expect(c.start()).rejects.toBeInstanceOf(CoordinatorConnectionError);
      // Within the default connect timeout (5 s), never retried for ever.
      expect(since(started)).toBeLessThan(6000);
      expect(c.isStarted).toBe(false);
    },
  );

  it('test_stop_first: stop() on a never-started coordinator rejects with CoordinationError', async () => {
    const c = coordinators.create();
    await expect(c.stop()).rejects.toBeInstanceOf(CoordinationError);
    expect(c.isStarted).toBe(false);
  });

  it('test_get_started_status: isStarted follows start() and stop(), and a stopped coordinator starts again', async () => {
    const c = await coordinators.start();
    expect(c.isStarted).toBe(true);
    await c.stop();
    expect(c.isStarted).toBe(false);
    await c.start();
    expect(c.isStarted).toBe(true);
    // Restarted, it works as before.
    const g = uid('group');
    await c.joinGroupCreate(g);
    expect(await c.getMembers(g)).toEqual(new Set([c.memberId]));
  });

  it('the driver declares exactly the characteristics and requiresBeating of docs/drivers.md’s driver table', async () => {
    // The table is pinned in test/support/drivers.ts; the suite's skips follow it, not the driver.
    const declared = (c: Coordinator) => ({
      characteristics: new Set(c.characteristics),
      requiresBeating: c.requiresBeating,
    });
    const pinned = { characteristics: new Set(driver.characteristics), requiresBeating: driver.requiresBeating };
    expect(declared(coordinators.create())).toEqual(pinned);
    // Whatever the URL's options, and once started.
    expect(declared(await coordinators.start({ query: { timeout: 2, lock_timeout: 3 } }))).toEqual(pinned);
  });

  it('getCoordinator returns an unstarted Coordinator with the given member id', () => {
    const memberId = uid('member');
    const c = coordinators.create({ memberId });
    expect(c).toBeInstanceOf(Coordinator);
    expect(c.memberId).toBe(memberId);
    expect(c.isStarted).toBe(false);
    expect(c.characteristics.size).toBeGreaterThan(0);
    expect(typeof c.requiresBeating).toBe('boolean');
    expect(c.events$).toBeInstanceOf(Observable);
  });

  it('start() on a started coordinator rejects with CoordinationError and leaves it started', async () => {
    const c = await coordinators.start();
    await expect(c.start()).rejects.toBeInstanceOf(CoordinationError);
    expect(c.isStarted).toBe(true);
    expect(await c.getGroups()).toBeInstanceOf(Array);
  });

  it('stop() twice: the second rejects with CoordinationError', async () => {
    const c = await coordinators.start();
    await c.stop();
    await expect(c.stop()).rejects.toBeInstanceOf(CoordinationError);
  });

  it('stop() leaves every joined group, releases held locks and gives up leadership at once', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g1 = uid('group');
    const g2 = uid('group');
    await c1.joinGroupCreate(g1);
    await c1.joinGroupCreate(g2);
    await c2.joinGroup(g1);
    const lockName = uid('lock');
    expect(await c1.getLock(lockName).acquire({ blocking: false })).toBe(true);
    await c1.watchElectedAsLeader(g1, () => undefined);
    await c1.runWatchers();
    expect(await c2.getLeader(g1)).toBe(c1.memberId);

    const lost = nextEvent(c1, LeadershipLost, (e) => e.groupId === g1);
    await c1.stop();
    expect(await lost).toMatchObject({ groupId: g1, memberId: c1.memberId });

    expect(await c2.getMembers(g1)).toEqual(new Set([c2.memberId]));
    expect(await c2.getMembers(g2)).toEqual(new Set());
    expect(await c2.getLeader(g1)).toBeNull();
    expect(await c2.getLock(lockName).acquire({ blocking: false })).toBe(true);
  });

  it('registerDriver: getCoordinator calls the scheme factory once, synchronously, and returns what it returns', () => {
    const scheme = `conformance${uid('x').replace(/[^a-z0-9]/g, '')}`;
    const calls: { url: URL; memberId: string; options: unknown }[] = [];
    const made = coordinators.create();
    registerDriver(scheme, (url, memberId, options) => {
      calls.push({ url, memberId, options });
      return made;
    });
    const options = { membershipTimeoutMs: 1234 };
    const result = getCoordinator(`${scheme}://somewhere/path?timeout=3`, 'm-1', options);
    expect(result).toBe(made);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBeInstanceOf(URL);
    expect(calls[0]!.url.host).toBe('somewhere');
    expect(calls[0]!.url.searchParams.get('timeout')).toBe('3');
    expect(calls[0]!.memberId).toBe('m-1');
    expect(calls[0]!.options).toMatchObject(options);
  });
});

// A driver whose connection drops while stopping must say so, after doing what
// it still can. The failing:// test driver (the memory:// driver behind a
// FaultyBackend) makes the batched disconnect that stop() sends fail.
describe('stop() after a backend error, on failing://', () => {
  const coordinators = useCoordinators({ name: 'failing', url: failingUrl(), crossProcess: false });

  /** `c` joined to a group it leads, holding a lock, seen from `other`. */
  async function leadingAndHolding(c: Coordinator, other: Coordinator) {
    const g = uid('group');
    await c.joinGroupCreate(g);
    await c.watchElectedAsLeader(g, () => undefined);
    await c.runWatchers();
    expect(await other.getLeader(g)).toBe(c.memberId);
    const lock = c.getLock(uid('lock'));
    expect(await lock.acquire({ blocking: false })).toBe(true);
    return { g, lock };
  }

  it('the answer is lost after the backend let go of everything: stop() rejects with that error, and nothing is left behind', async () => {
    const [c, other] = await coordinators.startMany(2);
    const { g, lock } = await leadingAndHolding(c, other);
    const dropped = new Error('Connection is closed.');
    failing(c).faults.failAfter('disconnect', dropped);

    await expect(c.stop()).rejects.toBe(dropped);
    expect(c.isStarted).toBe(false);
    expect(c.isLeaderOf(g)).toBe(false);
    expect(lock.isHeld).toBe(false);
    expect(await other.getMembers(g)).toEqual(new Set());
    expect(await other.getLeader(g)).toBeNull();
    expect(await other.getLock(lock.name).acquire({ blocking: false })).toBe(true);
  });

  it('the backend is never reached: stop() rejects with that error and forgets the session, which a restart does not keep alive', async () => {
    const [c, other] = await coordinators.startMany(2, { query: { lock_timeout: 0.3, timeout: 0.3 } });
    const { g, lock } = await leadingAndHolding(c, other);
    const seen = coordinators.record(c);
    const dropped = new Error('Connection is closed.');
    failing(c).fail('disconnect', dropped);

    await expect(c.stop()).rejects.toBe(dropped);
    expect(c.isStarted).toBe(false);
    expect(c.isLeaderOf(g)).toBe(false);
    expect(lock.isHeld).toBe(false);
    expect(seen.filter((e) => e instanceof LockLost)).toEqual([new LockLost(lock.name, c.memberId)]);
    expect(seen.filter((e) => e instanceof LeadershipLost)).toEqual([new LeadershipLost(g, c.memberId)]);

    // Started again and beating, it does not keep the old hold alive: it expires and another takes it.
    await c.start();
    const taken = other.getLock(lock.name).acquire({ timeoutMs: 5000 });
    while (!(await isSettled(taken, 0))) await sleep(Math.min(await c.heartbeat(), 50));
    expect(await taken).toBe(true);
  });
});
