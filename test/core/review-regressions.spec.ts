/**
 * Regression tests for the review fixes of fe70dff. Each test failed on the
 * code before that commit: a stale "let go" released a fresh hold or
 * leadership; a refused runWatchers() surfaced as an unhandled rejection;
 * Redis re-took a lock for nobody after its beat found a grant; a group left
 * after an unnoticed eviction came back at the next beat; an overlapping beat
 * forgot the groups another beat was rejoining; on PostgreSQL a queued
 * request whose withdrawal failed blocked the lock for everyone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  Characteristic,
  CoordinationError,
  type Coordinator,
  type CoordinatorOptions,
  getCoordinator,
  LeadershipLost,
  LockLost,
  MemberNotJoinedError,
} from '../../lib/index.js';
import { drivers, memoryDriver, postgresDriver, redisDriver, testBackend, uid } from '../support/drivers.js';
import { failing, failingPostgresDriver, failingRedisDriver } from '../support/failing-driver.js';
import { deferred, sleep, within } from '../support/failing-coordinators.js';

/** Drivers whose locks, leaderships and memberships end by time (not PostgreSQL's session-bound ones). */
const timedDrivers = drivers.filter((driver) => !driver.characteristics.includes(Characteristic.NonTimeoutBased));

/** Started coordinators, stopped after each test. */
function useCoordinators() {
  const made: Coordinator[] = [];
  afterEach(async () => {
    for (const coordinator of made.splice(0)) {
      if (coordinator.isStarted) await coordinator.stop().catch(() => undefined);
    }
  });
  return async (url: string, options: CoordinatorOptions = {}): Promise<Coordinator> => {
    const coordinator = getCoordinator(url, uid('m'), { stopTimeoutMs: 1_000, ...options });
    made.push(coordinator);
    await coordinator.start();
    return coordinator;
  };
}

describe.each(timedDrivers)('A stale let-go never releases a fresh hold ($name)', (driver) => {
  const start = useCoordinators();

  // Guards against one holder id per handle: the "let go" of the hold that
  // lapsed locally (sent with the next beat) matched the hold the same handle
  // took again since, and released it (Redis: two holders; memory: LockLost).
  it('a handle that re-acquires after its hold lapsed still holds it after the next beat', async () => {
    const backend = testBackend(driver);
    const url = backend.url({ lock_timeout: 0.4, timeout: 30 });
    const [holder, other] = [await start(url), await start(url)];
    const name = backend.name('lock');
    const lock = holder.getLock(name);
    const lost = deferred();
    holder.events$.subscribe((event) => event instanceof LockLost && event.name === name && lost.resolve());

    expect(await lock.acquire()).toBe(true);
    await within(lost.promise, 3_000, 'LockLost'); // no beats: the lease lapses locally
    expect(lock.isHeld).toBe(false);

    expect(await lock.acquire({ timeoutMs: 3_000 })).toBe(true);
    await holder.heartbeat(); // carries the let-go of the lapsed hold

    expect(lock.isHeld).toBe(true);
    expect(await lock.isStillOwner()).toBe(true);
    expect(await other.getLock(name).acquire({ blocking: false })).toBe(false);
  });
});

describe.each(timedDrivers)('A stale let-go never gives up a re-won leadership ($name)', (driver) => {
  const start = useCoordinators();

  // Guards against a leadership won again after a local loss whose pending
  // stand-down still went out with the next beat: the member believed it led
  // while the backend had nobody (Redis), or lost it at once (memory).
  it('a leader whose lease lapsed and who wins again still leads after the next beat', async () => {
    const backend = testBackend(driver);
    const url = backend.url({ lock_timeout: 0.4, timeout: 30 });
    const [leader, other] = [await start(url), await start(url)];
    const group = backend.name('g');
    await leader.createGroup(group);
    await leader.watchElectedAsLeader(group, () => 'elected');
    const lost = deferred();
    leader.events$.subscribe((event) => event instanceof LeadershipLost && lost.resolve());

    await leader.runWatchers();
    expect(leader.isLeaderOf(group)).toBe(true);
    await within(lost.promise, 3_000, 'LeadershipLost'); // no beats: the lease lapses locally
    expect(leader.isLeaderOf(group)).toBe(false);

    const deadline = performance.now() + 3_000;
    while (!leader.isLeaderOf(group) && performance.now() < deadline) {
      await leader.runWatchers();
      if (!leader.isLeaderOf(group)) await sleep(20);
    }
    expect(leader.isLeaderOf(group)).toBe(true);
    await leader.heartbeat(); // carries the stand-down of the lapsed leadership

    expect(leader.isLeaderOf(group)).toBe(true);
    expect(await other.getLeader(group)).toBe(leader.memberId);
  });
});

describe('A refused runWatchers() (memory)', () => {
  const start = useCoordinators();

  // Guards against the backend phase of a refused run rejecting while the
  // previous run's callbacks still block the delivery queue: nothing handled
  // it until then, and Node reported an unhandled rejection.
  it('is never an unhandled rejection, even while an earlier callback blocks', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const url = testBackend(memoryDriver).url();
      const [watcher, joiner] = [await start(url), await start(url)];
      const group = uid('g');
      await watcher.createGroup(group);
      const gate = deferred();
      const called = deferred();
      await watcher.watchJoinGroup(group, async () => {
        called.resolve();
        await gate.promise;
      });
      await joiner.joinGroup(group);

      const first = watcher.runWatchers();
      await within(called.promise, 3_000, 'the join callback');
      const stopping = watcher.stop();
      // Refused at once; its promise settles only after the blocked delivery ahead of it.
      const refused = watcher.runWatchers().then(
        () => null,
        (error: unknown) => error,
      );
      await sleep(50); // while the callback still blocks: Node reports an unhandled rejection now, if any
      gate.resolve();
      expect(await refused).toBeInstanceOf(CoordinationError);
      await first.catch(() => undefined);
      await stopping;
      await sleep(20);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe.skipIf(!drivers.includes(redisDriver))('A grant found by the beat (failing redis)', () => {
  const start = useCoordinators();

  // Guards against a waiter whose grant the beat found (its push missed) and
  // that the driver did not forget: its wake timer later asked for the lock
  // again for nobody, and held it after the core had released it.
  it('released within a second, leaves the lock free', async () => {
    const backend = testBackend(failingRedisDriver);
    const url = backend.url({ lock_timeout: 10, timeout: 30 });
    const [holder, waiter, other] = [await start(url), await start(url), await start(url)];
    const name = backend.name('lock');
    const held = holder.getLock(name);
    expect(await held.acquire()).toBe(true);

    // The grant's pub/sub message is lost on the wire: the push never reaches the core's waiters.
    failing(waiter).faults.missPushes();
    const lock = waiter.getLock(name);
    let settled = false;
    const acquiring = lock.acquire({ timeoutMs: 5_000 }).finally(() => (settled = true));
    await sleep(50); // queued: its wake timer is armed for 1 s from now
    expect(await held.release()).toBe(true);
    await sleep(50);
    expect(settled).toBe(false); // granted in Redis, but nobody told the waiter
    await waiter.heartbeat(); // finds the grant
    expect(await acquiring).toBe(true);
    expect(await lock.release()).toBe(true);

    await sleep(1_300); // past the wake timer
    expect(await other.getLock(name).acquire({ blocking: false })).toBe(true);
  });
});

describe.each(timedDrivers)('Groups after an unnoticed eviction ($name)', (driver) => {
  const start = useCoordinators();

  /** `member` (membership timeout 0.3 s) stalls past its timeout; a reader's look prunes it. */
  async function evict(member: Coordinator, observer: Coordinator, groups: string[]): Promise<void> {
    await sleep(450);
    for (const group of groups) expect(await observer.getMembers(group)).not.toContain(member.memberId);
  }

  // Guards against a leaveGroup() that failed with MemberNotJoinedError (the
  // member was evicted and had not noticed) but kept the group in the
  // session: the next beat rejoined the group the member had just left.
  it('leaveGroup() after an eviction stays left after the next beat', async () => {
    const backend = testBackend(driver);
    const member = await start(backend.url({ timeout: 0.3 }));
    const observer = await start(backend.url({ timeout: 30 }));
    const group = backend.name('g');
    await member.joinGroupCreate(group);
    expect(await observer.getMembers(group)).toContain(member.memberId);
    await evict(member, observer, [group]);

    await expect(member.leaveGroup(group)).rejects.toBeInstanceOf(MemberNotJoinedError);
    await member.heartbeat();

    expect(await observer.getMembers(group)).not.toContain(member.memberId);
    expect(member.groups.has(group)).toBe(false);
  });

  /** Evicted from `count` groups, the member beats twice at once, then is evicted and beats again. */
  async function overlappingBeats(count: number): Promise<void> {
    const backend = testBackend(driver);
    const member = await start(backend.url({ timeout: 0.3 }));
    const observer = await start(backend.url({ timeout: 30 }));
    const groups = Array.from({ length: count }, (_, i) => backend.name(`g${i}`)).sort();
    for (const group of groups) await member.joinGroupCreate(group);
    await evict(member, observer, groups);

    await Promise.all([member.heartbeat(), member.heartbeat()]);
    expect([...member.groups].sort()).toEqual(groups);
    for (const group of groups) expect(await observer.getMembers(group)).toContain(member.memberId);

    await evict(member, observer, groups);
    await member.heartbeat();
    expect([...member.groups].sort()).toEqual(groups);
    for (const group of groups) expect(await observer.getMembers(group)).toContain(member.memberId);
  }

  // Guards against a beat that overlaps another beat's rejoin: it read the
  // group missing (before the rejoin) but liveness no longer lapsed, and took
  // it for left on purpose, so the member forgot it and a second eviction was
  // never repaired.
  it('two overlapping beats keep the group one of them rejoins', () => overlappingBeats(1));

  // With two groups the first beat must mark both as being rejoined before its first await, or the
  // overlapping beat drops the second (the backend has the member in it, the session forgot it).
  it('two overlapping beats keep both groups one of them rejoins', () => overlappingBeats(2));
});

describe.skipIf(!drivers.includes(postgresDriver))(
  'A queued request whose withdrawal failed (failing postgresql)',
  () => {
    const start = useCoordinators();

    // Guards against a let-go of a request still queued that only looked at
    // holds: the queue row stayed, and every later acquire of the lock waited
    // behind a request nobody would ever take.
    it('does not block the lock after the next beat', async () => {
      const url = testBackend(failingPostgresDriver).url();
      const [holder, waiter, other] = [await start(url), await start(url), await start(url)];
      const name = uid('lock');
      const held = holder.getLock(name);
      expect(await held.acquire()).toBe(true);

      failing(waiter).faults.fail('withdraw', new Error('x'));
      expect(await waiter.getLock(name).acquire({ timeoutMs: 200 })).toBe(false);
      await waiter.heartbeat(); // lets the request go: it must leave the queue
      expect(await held.release()).toBe(true);

      // Old code: the queue row stayed, the release handed the lock to it, and the waiter's
      // session took it for nobody (until a later beat, which this test never sends).
      const lock = other.getLock(name);
      const deadline = performance.now() + 1_500;
      let got = await lock.acquire({ blocking: false });
      while (!got && performance.now() < deadline) {
        await sleep(50);
        got = await lock.acquire({ blocking: false });
      }
      expect(got).toBe(true);
    });
  },
);
