/**
 * A connection lost ends every hold and leadership at once; a connection back
 * makes the coordinator beat at once, rejoin its groups and be able to lock
 * again (docs/semantics.md#beats-leases-and-connections).
 */
import { describe, expect, it } from 'vitest';
import { CoordinatorConnectionError, LeadershipLost, LockLost } from '../../../lib/index.js';
import { quietLogger, record, sleep, uid, useFailing } from '../../support/failing-coordinators.js';

describe('Connection lost and back', () => {
  const failing = useFailing();

  /** A coordinator holding two locks, leading a group it has joined, and an observer. */
  async function holding(query: Record<string, number>) {
    const url = failing.url(query);
    const logger = quietLogger();
    const [c1, observer] = [await failing.start(url, uid('m'), { logger }), await failing.start(url)];
    const group = uid('g');
    await c1.joinGroupCreate(group, { role: 'worker' });
    await c1.watchElectedAsLeader(group, () => 'led');
    await c1.runWatchers();
    expect(c1.isLeaderOf(group)).toBe(true);
    const locks = [c1.getLock(uid('a')), c1.getLock(uid('b'))];
    for (const lock of locks) expect(await lock.acquire()).toBe(true);
    return { c1, observer, group, locks, logger };
  }

  // Guards against a coordinator that goes on believing in its holds and
  // leaderships after the backend told it the session is gone.
  it('ends every hold and every leadership at once, and calls fail with CoordinatorConnectionError', async () => {
    const { c1, group, locks } = await holding({ lock_timeout: 30, timeout: 30 });
    const events = record(c1);
    const signals = locks.map((lock) => lock.signal!);

    c1.faults.dropConnection();
    // At once: no timer, no call needed.
    expect(locks.map((lock) => lock.isHeld)).toEqual([false, false]);
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
    expect(c1.isLeaderOf(group)).toBe(false);
    expect(events.filter((e) => e instanceof LockLost).map((e) => (e as LockLost).name)).toEqual(
      locks.map((lock) => lock.name),
    );
    expect(events.filter((e) => e instanceof LeadershipLost)).toEqual([new LeadershipLost(group, c1.memberId)]);

    await expect(c1.getMembers(group)).rejects.toBeInstanceOf(CoordinatorConnectionError);
    await expect(c1.getLock(uid('c')).acquire({ blocking: false })).rejects.toBeInstanceOf(CoordinatorConnectionError);
    await expect(c1.heartbeat()).rejects.toBeInstanceOf(CoordinatorConnectionError);
  });

  // Guards against a reconnect that waits for the next scheduled beat (or
  // never rejoins): a member evicted while cut off must be back in its groups
  // as soon as the connection is.
  it('when the connection is back, beats at once and is a member of its groups again', async () => {
    const { c1, observer, group } = await holding({ lock_timeout: 30, timeout: 0.3 });
    c1.faults.dropConnection();
    await sleep(450); // past the membership timeout: the backend evicts the member
    expect(await observer.getMembers(group)).not.toContain(c1.memberId);

    const beats = c1.faults.calls('beat');
    c1.faults.reconnect();
    expect(c1.faults.calls('beat')).toBe(beats + 1); // at once, not at the next beat
    let members = await observer.getMembers(group);
    for (let i = 0; i < 100 && !members.has(c1.memberId); i++) {
      await sleep(10);
      members = await observer.getMembers(group);
    }
    expect(members).toContain(c1.memberId);
    expect(await observer.getMemberCapabilities(group, c1.memberId)).toEqual({ role: 'worker' });
    // Calls work again: it can lock.
    expect(await c1.getLock(uid('after')).acquire({ blocking: false })).toBe(true);
  });

  // Guards against holds that ended locally at the drop but are still held in
  // the backend after the reconnect: nobody (this member included) could
  // take those locks until their lease ran out (30 s here).
  it('when the connection is back, the locks it held can be acquired again', async () => {
    const { c1, observer, locks } = await holding({ lock_timeout: 30, timeout: 30 });
    c1.faults.dropConnection();
    c1.faults.reconnect();
    await c1.heartbeat();
    expect(await locks[0]!.acquire({ blocking: false })).toBe(true);
    expect(await observer.getLock(locks[1]!.name).acquire({ blocking: false })).toBe(true);
  });

  it('when the connection is back, another candidate can win the leadership it lost', async () => {
    const { c1, observer, group } = await holding({ lock_timeout: 30, timeout: 30 });
    c1.faults.dropConnection();
    c1.faults.reconnect();
    await c1.heartbeat();
    await observer.watchElectedAsLeader(group, () => 'observer');
    await observer.runWatchers();
    expect(observer.isLeaderOf(group)).toBe(true);
    expect(await observer.getLeader(group)).toBe(observer.memberId);
  });
});
