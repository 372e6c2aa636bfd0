import { describe, expect, it, vi } from 'vitest';
import {
  type Coordinator,
  GroupNotEmptyError,
  LeaderElected,
  LeadershipLost,
  LockLost,
  MemberJoinedGroup,
  MemberLeftGroup,
  MemberNotJoinedError,
} from '../../lib/index.js';
import { drivers } from '../support/drivers.js';
import {
  driverTraits,
  eventSink,
  nextEvent,
  now,
  runWatchersUntilResult,
  since,
  sleep,
  uid,
  useCoordinators,
} from './harness.js';

/** Short timeouts in tooz's URL unit, seconds (tooz's own suite uses 5 s). */
const SHORT = 0.5;
const SHORT_MS = SHORT * 1000;

describe.each(drivers)('timeouts on $name', (driver) => {
  const traits = driverTraits(driver);
  const coordinators = useCoordinators(driver);

  /** Beat `coordinator` at the interval its heartbeat() asks for, for `forMs`. */
  async function beatFor(coordinator: Coordinator, forMs: number): Promise<number[]> {
    const intervals: number[] = [];
    const until = now() + forMs;
    while (now() < until) {
      const next = await coordinator.heartbeat();
      intervals.push(next);
      await sleep(Math.min(next, Math.max(0, until - now())));
    }
    return intervals;
  }

  it.skipIf(!traits.requiresBeating)(
    'test_heartbeat: heartbeat() resolves the ms until the next beat is due (skipped when heartbeating is not required)',
    async () => {
      const c = await coordinators.start({ query: { timeout: 1 } });
      const next = await c.heartbeat();
      expect(typeof next).toBe('number');
      expect(next).toBeGreaterThan(0);
      expect(next).toBeLessThanOrEqual(500);
    },
  );

  // Ours: tooz drives a `Heart` thread; ours is start({ startHeart: true }), observed through the public heartbeat() it calls.
  it.skipIf(!traits.requiresBeating)(
    'test_heartbeat_loop: start({ startHeart: true }) beats in the background until stop() (skipped when heartbeating is not required)',
    async () => {
      const c = coordinators.create({ query: { timeout: SHORT } });
      const beats = vi.spyOn(c, 'heartbeat');
      // Without the heart nothing beats (tooz: the heart is not alive before heart.start()).
      await c.start();
      await sleep(50);
      expect(beats).not.toHaveBeenCalled();
      await c.stop();
      await c.start({ startHeart: true });
      await vi.waitFor(() => expect(beats.mock.calls.length).toBeGreaterThanOrEqual(2), {
        timeout: 3000,
        interval: 20,
      });
      await c.stop();
      const count = beats.mock.calls.length;
      await sleep(SHORT_MS * 0.8);
      expect(beats.mock.calls.length).toBe(count);
    },
  );

  it.skipIf(!traits.timeoutBased)(
    'test_timeout: a member that never beats leaves its group after `timeout` seconds, and watchers report it (skipped on NON_TIMEOUT_BASED)',
    async () => {
      const c1 = await coordinators.start({ query: { timeout: 1 } });
      const c2StartedAt = now();
      const c2 = await coordinators.start({ query: { timeout: 1 } });
      const g = uid('group');
      await c1.createGroup(g);
      await c1.joinGroup(g);
      await c2.joinGroup(g);
      expect(await c1.getMembers(g)).toEqual(new Set([c1.memberId, c2.memberId]));
      const sink = eventSink<MemberLeftGroup>();
      await c1.watchLeaveGroup(g, sink.callback);
      expect(await c1.runWatchers()).toEqual([]);

      const deadline = now() + 3000;
      while ((await c1.getMembers(g)).has(c2.memberId)) {
        expect(now()).toBeLessThan(deadline);
        await sleep(Math.min(await c1.heartbeat(), 100));
      }
      expect(since(c2StartedAt)).toBeGreaterThanOrEqual(950);
      const members = await c1.getMembers(g);
      expect(members).toContain(c1.memberId);
      expect(members).not.toContain(c2.memberId);

      expect(await runWatchersUntilResult(c1)).toEqual([42]);
      expect(sink.events).toHaveLength(1);
      expect(sink.events[0]).toBeInstanceOf(MemberLeftGroup);
      expect(sink.events[0]).toMatchObject({ groupId: g, memberId: c2.memberId });
    },
  );

  // ---- Beyond tooz ---------------------------------------------------------

  it('heartbeat() asks for a beat within half the shorter of the membership and lock timeouts (URL seconds, decimals allowed)', async () => {
    const cases: { query: Record<string, number>; options?: Record<string, number>; atMost: number }[] = [
      { query: { timeout: SHORT }, atMost: SHORT_MS / 2 },
      { query: { lock_timeout: 0.6 }, atMost: 300 },
      { query: { timeout: 2, lock_timeout: 0.8 }, atMost: 400 },
      // An options object in code overrides the URL option of the same meaning.
      { query: { timeout: 30, lock_timeout: 30 }, options: { membershipTimeoutMs: 400 }, atMost: 200 },
      { query: { timeout: 30, lock_timeout: 30 }, options: { lockTimeoutMs: 300 }, atMost: 150 },
    ];
    for (const { query, options, atMost } of cases) {
      const c = await coordinators.start({ query, options });
      const next = await c.heartbeat();
      expect(next, JSON.stringify({ query, options })).toBeGreaterThan(0);
      expect(next, JSON.stringify({ query, options })).toBeLessThanOrEqual(atMost);
    }
  });

  it('beating at the interval heartbeat() returns keeps membership, locks and leadership alive past their timeouts', async () => {
    const c1 = await coordinators.start({ query: { timeout: SHORT, lock_timeout: SHORT } });
    const c2 = await coordinators.start();
    const g = uid('group');
    const name = uid('lock');
    await c1.joinGroupCreate(g);
    await c1.watchElectedAsLeader(g, () => undefined);
    await c1.runWatchers();
    const lock = c1.getLock(name);
    expect(await lock.acquire()).toBe(true);
    const signal = lock.signal!;
    const seen = coordinators.record(c1);

    const intervals = await beatFor(c1, SHORT_MS * 2.6);
    for (const interval of intervals) expect(interval).toBeLessThanOrEqual(SHORT_MS / 2);

    expect(await c2.getMembers(g)).toContain(c1.memberId);
    expect(await lock.isStillOwner()).toBe(true);
    expect(signal.aborted).toBe(false);
    expect(await c2.getLock(name).acquire({ blocking: false })).toBe(false);
    expect(await c2.getLeader(g)).toBe(c1.memberId);
    expect(seen.filter((e) => e instanceof LockLost || e instanceof LeadershipLost)).toEqual([]);
  });

  it('start({ startHeart: true }) keeps a member, its locks and its leadership alive past their timeouts without manual beats', async () => {
    const c1 = await coordinators.start({
      query: { timeout: SHORT, lock_timeout: SHORT },
      start: { startHeart: true },
    });
    const c2 = await coordinators.start();
    const g = uid('group');
    const name = uid('lock');
    await c1.joinGroupCreate(g);
    await c1.watchElectedAsLeader(g, () => undefined);
    await c1.runWatchers();
    const lock = c1.getLock(name);
    expect(await lock.acquire()).toBe(true);
    const seen = coordinators.record(c1);

    await sleep(SHORT_MS * 2.6); // nothing to await: the point is that nothing happens

    expect(await c2.getMembers(g)).toContain(c1.memberId);
    expect(await lock.isStillOwner()).toBe(true);
    expect(await c2.getLock(name).acquire({ blocking: false })).toBe(false);
    expect(await c2.getLeader(g)).toBe(c1.memberId);
    expect(seen.filter((e) => e instanceof LockLost || e instanceof LeadershipLost)).toEqual([]);
  });

  it.skipIf(!traits.timeoutBased)(
    'a member that never beats disappears everywhere at once; its next beat rejoins it with the same capabilities (skipped on NON_TIMEOUT_BASED)',
    async () => {
      const watcher = await coordinators.start();
      const silentStartedAt = now();
      const silent = await coordinators.start({ query: { timeout: SHORT } });
      const g = uid('group');
      await watcher.createGroup(g);
      await silent.joinGroup(g, { role: 'silent' });
      await silent.watchLeaveGroup(g, () => undefined);
      const sink = eventSink<MemberLeftGroup>();
      await watcher.watchLeaveGroup(g, sink.callback);
      const seen = coordinators.record(watcher);

      await vi.waitFor(async () => expect(await watcher.getMembers(g)).not.toContain(silent.memberId), {
        timeout: SHORT_MS + 3000,
        interval: 20,
      });
      expect(since(silentStartedAt)).toBeGreaterThanOrEqual(SHORT_MS - 50);
      expect(await watcher.getMembersWithCapabilities(g)).toEqual(new Map());
      await expect(watcher.getMemberCapabilities(g, silent.memberId)).rejects.toBeInstanceOf(MemberNotJoinedError);
      await expect(watcher.getMemberInfo(g, silent.memberId)).rejects.toBeInstanceOf(MemberNotJoinedError);

      expect(await watcher.runWatchers()).toEqual([42]);
      expect(sink.events).toEqual([new MemberLeftGroup(g, silent.memberId)]);
      expect(seen.filter((e) => e instanceof MemberLeftGroup)).toEqual([new MemberLeftGroup(g, silent.memberId)]);

      // Evicted by its lapse: its next beat rejoins it with the capabilities it had, and watchers see it return.
      await silent.heartbeat();
      expect(await watcher.getMembers(g)).toEqual(new Set([silent.memberId]));
      expect(await watcher.getMemberCapabilities(g, silent.memberId)).toEqual({ role: 'silent' });
      expect(silent.groups.has(g)).toBe(true);
      await watcher.runWatchers();
      expect(seen.filter((e) => e instanceof MemberJoinedGroup)).toEqual([new MemberJoinedGroup(g, silent.memberId)]);
      // The dead member did not count against deleteGroup's emptiness check; the rejoined one does.
      await expect(watcher.deleteGroup(g)).rejects.toBeInstanceOf(GroupNotEmptyError);
      await silent.leaveGroup(g);
      await watcher.deleteGroup(g);
      expect(await watcher.getGroups()).not.toContain(g);
    },
  );

  it.skipIf(!traits.timeoutBased)(
    'a lock not heartbeated is lost after `lock_timeout`: LockLost, signal aborted, isStillOwner false, another handle takes it (skipped on NON_TIMEOUT_BASED)',
    async () => {
      const c1 = await coordinators.start({ query: { lock_timeout: SHORT } });
      const c2 = await coordinators.start();
      const name = uid('lock');
      const lock = c1.getLock(name);
      const acquiredAt = now();
      expect(await lock.acquire()).toBe(true);
      const signal = lock.signal!;
      const lost = nextEvent(c1, LockLost, (e) => e.name === name, SHORT_MS + 3000);

      const event = await lost;
      expect(event).toBeInstanceOf(LockLost);
      expect(event.name).toBe(name);
      expect(since(acquiredAt)).toBeGreaterThanOrEqual(SHORT_MS - 50);
      expect(signal.aborted).toBe(true);
      expect(lock.isHeld).toBe(false);
      expect(await lock.isStillOwner()).toBe(false);
      expect(await lock.heartbeat()).toBe(false);

      const other = c2.getLock(name);
      expect(await other.acquire({ blocking: false })).toBe(true);
      expect(other.fencingToken! > lock.fencingToken!).toBe(true);
      // The old holder's release neither succeeds nor frees the new hold.
      expect(await lock.release()).toBe(false);
      expect(await other.isStillOwner()).toBe(true);
      expect(await c1.getLock(name).acquire({ blocking: false })).toBe(false);
    },
  );

  it.skipIf(!traits.timeoutBased)(
    'the holder learns of the loss when it asks, too: isStillOwner() is false once `lock_timeout` passed (skipped on NON_TIMEOUT_BASED)',
    async () => {
      const c1 = await coordinators.start({ query: { lock_timeout: SHORT } });
      const lock = c1.getLock(uid('lock'));
      expect(await lock.acquire()).toBe(true);
      expect(await lock.isStillOwner()).toBe(true);
      await sleep(SHORT_MS + 100); // expiry is the event under test
      expect(await lock.isStillOwner()).toBe(false);
    },
  );

  it.skipIf(!traits.timeoutBased)(
    'a blocked waiter gets a lock whose hold expired, without any release (skipped on NON_TIMEOUT_BASED)',
    async () => {
      const c1 = await coordinators.start({ query: { lock_timeout: SHORT } });
      const c2 = await coordinators.start();
      const name = uid('lock');
      const acquiredAt = now();
      expect(await c1.getLock(name).acquire()).toBe(true);
      const waiter = c2.getLock(name);
      expect(await waiter.acquire({ blocking: true, timeoutMs: SHORT_MS + 3000 })).toBe(true);
      expect(since(acquiredAt)).toBeGreaterThanOrEqual(SHORT_MS - 50);
      expect(since(acquiredAt)).toBeLessThan(SHORT_MS + 1000);
    },
  );

  it.skipIf(!traits.timeoutBased)(
    'a leader that stops beating loses leadership after `lock_timeout`; another candidate takes over and the old one gets LeadershipLost (skipped on NON_TIMEOUT_BASED)',
    async () => {
      const c1 = await coordinators.start({ query: { lock_timeout: SHORT } });
      const c2 = await coordinators.start();
      const g = uid('group');
      await c1.createGroup(g);
      await c1.watchElectedAsLeader(g, () => undefined);
      const electedAt = now();
      await c1.runWatchers();
      expect(await c2.getLeader(g)).toBe(c1.memberId);

      const sink = eventSink<LeaderElected>();
      const seen = coordinators.record(c1);
      const lost = nextEvent(c1, LeadershipLost, (e) => e.groupId === g, SHORT_MS + 3000);
      // What the old leader believes at the moment its successor is elected. Read
      // there rather than by the order of the two events: a starved CPU may run the
      // successor's election before the old leader's lease timer, but the lease is
      // judged against the clock and counted from before the call that won it.
      let oldLeaderBelievedWhenSuccessorWon: boolean | undefined;
      await c2.watchElectedAsLeader(g, (event) => {
        oldLeaderBelievedWhenSuccessorWon = c1.isLeaderOf(g);
        return sink.callback(event);
      });
      expect(await c2.runWatchers()).toEqual([]);
      await vi.waitFor(async () => expect(await c2.runWatchers()).toEqual([42]), {
        timeout: SHORT_MS + 3000,
        interval: 20,
      });
      expect(since(electedAt)).toBeGreaterThanOrEqual(SHORT_MS - 50);
      expect(sink.events).toEqual([new LeaderElected(g, c2.memberId)]);
      expect(await c1.getLeader(g)).toBe(c2.memberId);

      // The old leader's lease ran out locally before anyone else could win: it never
      // believed it led alongside its successor, and cannot win back a live leadership.
      expect(oldLeaderBelievedWhenSuccessorWon).toBe(false);
      expect(await lost).toMatchObject({ groupId: g, memberId: c1.memberId });
      expect(c1.isLeaderOf(g)).toBe(false);
      expect(seen.filter((e) => e instanceof LeadershipLost)).toEqual([new LeadershipLost(g, c1.memberId)]);
      expect(await c1.runWatchers()).toEqual([]);
      expect(await c1.getLeader(g)).toBe(c2.memberId);
    },
  );

  it.skipIf(!traits.timeoutBased)(
    'an expired leader learns of the loss when its lease runs out, without asking, and only once (skipped on NON_TIMEOUT_BASED)',
    async () => {
      const c1 = await coordinators.start({ query: { lock_timeout: SHORT } });
      const events = coordinators.record(c1);
      const g = uid('group');
      await c1.createGroup(g);
      await c1.watchElectedAsLeader(g, () => undefined);
      await c1.runWatchers();
      expect(c1.isLeaderOf(g)).toBe(true);
      const lost = nextEvent(c1, LeadershipLost, (e) => e.groupId === g);
      expect(await lost).toMatchObject({ groupId: g, memberId: c1.memberId });
      expect(c1.isLeaderOf(g)).toBe(false);
      await sleep(100); // past the backend's own expiry too
      expect(await c1.getLeader(g)).toBeNull();
      await c1.heartbeat(); // a late beat neither restores nor reports the loss again
      expect(c1.isLeaderOf(g)).toBe(false);
      expect(events.filter((e) => e instanceof LeadershipLost)).toHaveLength(1);
    },
  );
});
