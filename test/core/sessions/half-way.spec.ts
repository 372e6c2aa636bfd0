/**
 * A lock request cut half way (docs/semantics.md#requests-cut-half-way): the
 * backend may have acted and the answer was lost, so the hold is ended here,
 * never believed on a guess, and the next beat lets it go in the backend. The
 * backend is the real memory:// store behind a `FaultyBackend`.
 */
import { describe, expect, it } from 'vitest';
import { CoordinatorConnectionError, LockLost } from '../../../lib/index.js';
import { record, uid, useFailing } from '../../support/failing-coordinators.js';
import { ConnectionDropped } from '../../support/faulty-backend.js';

/** What the network's own timeout looks like to the core: the answer never came, the outcome is unknown. */
const timedOut = () => Object.assign(new Error('Command timed out'), { code: 'ETIMEDOUT' });

describe('A release cut half way', () => {
  const failing = useFailing();

  // Guards against two holders: the backend released (and may have granted
  // the lock to a waiter), but the holder, whose answer was lost, went on
  // believing it held the lock.
  it('ends the hold at once, with LockLost, so two members never both believe', async () => {
    const url = failing.url({ lock_timeout: 30, timeout: 30 });
    const [holder, other] = [await failing.start(url), await failing.start(url)];
    const name = uid('lock');
    const [mine, theirs] = [holder.getLock(name), other.getLock(name)];
    expect(await mine.acquire()).toBe(true);
    const events = record(holder);

    holder.faults.failAfter('release', new ConnectionDropped('connection reset'));
    await expect(mine.release()).rejects.toBeInstanceOf(CoordinatorConnectionError);
    expect(await theirs.acquire({ blocking: false })).toBe(true); // the backend did release it
    expect(mine.isHeld).toBe(false);
    expect(await mine.isStillOwner()).toBe(false);
    expect(events.filter((event) => event instanceof LockLost).map((event) => (event as LockLost).name)).toEqual([
      name,
    ]);
  });

  // Guards against a lock left taken until its lease ends: a release whose
  // request never arrived is sent again by the next beat.
  it('that never reached the backend is let go by the next beat', async () => {
    const url = failing.url({ lock_timeout: 30, timeout: 30 });
    const [holder, other] = [await failing.start(url), await failing.start(url)];
    const name = uid('lock');
    const mine = holder.getLock(name);
    expect(await mine.acquire()).toBe(true);

    holder.faults.fail('release', timedOut());
    await expect(mine.release()).rejects.toBeInstanceOf(Error);
    expect(mine.isHeld).toBe(false);
    expect(await other.getLock(name).acquire({ blocking: false })).toBe(false); // still held in the backend
    await holder.heartbeat();
    expect(await other.getLock(name).acquire({ blocking: false })).toBe(true);
  });
});

describe('A non-blocking acquire cut half way', () => {
  const failing = useFailing();

  // Guards against a hold nobody believes in blocking the lock for a whole
  // lease: the backend granted it, the answer was lost.
  it('is let go by the next beat, and the caller does not believe it holds', async () => {
    const url = failing.url({ lock_timeout: 30, timeout: 30 });
    const [taker, other] = [await failing.start(url), await failing.start(url)];
    const name = uid('lock');
    const lock = taker.getLock(name);

    taker.faults.failAfter('acquire', timedOut());
    await expect(lock.acquire({ blocking: false })).rejects.toThrow(/timed out/);
    expect(lock.isHeld).toBe(false);
    expect(await other.getLock(name).acquire({ blocking: false })).toBe(false); // granted in the backend
    await taker.heartbeat();
    expect(await other.getLock(name).acquire({ blocking: false })).toBe(true);
  });
});

describe('An election cut half way', () => {
  const failing = useFailing();

  // Guards against a leadership nobody believes in keeping the group
  // leaderless for a whole lease: the backend elected us, the answer was lost.
  it('is given up by the next beat, so another candidate wins at its next run', async () => {
    const url = failing.url({ lock_timeout: 30, timeout: 30 });
    const [candidate, other] = [await failing.start(url), await failing.start(url)];
    const group = uid('group');
    await candidate.createGroup(group);
    for (const coordinator of [candidate, other]) await coordinator.watchElectedAsLeader(group, () => undefined);

    candidate.faults.failAfter('elect', timedOut());
    await expect(candidate.runWatchers()).rejects.toThrow(/timed out/);
    expect(candidate.isLeaderOf(group)).toBe(false);
    await other.runWatchers();
    expect(other.isLeaderOf(group)).toBe(false); // the backend has the lost win
    await candidate.heartbeat();
    await other.runWatchers();
    expect(other.isLeaderOf(group)).toBe(true);
  });
});

describe('A stand-down cut half way', () => {
  const failing = useFailing();

  // Guards against two leaders: the backend let the leadership go (another
  // candidate may win it), but the old leader went on believing it led.
  it('ends the leadership here at once, with LeadershipLost', async () => {
    const url = failing.url({ lock_timeout: 30, timeout: 30 });
    const [leader, other] = [await failing.start(url), await failing.start(url)];
    const group = uid('group');
    await leader.createGroup(group);
    for (const coordinator of [leader, other]) await coordinator.watchElectedAsLeader(group, () => undefined);
    await leader.runWatchers();
    expect(leader.isLeaderOf(group)).toBe(true);
    const events = record(leader);

    leader.faults.failAfter('standDown', new ConnectionDropped('connection reset'));
    await expect(leader.standDownGroupLeader(group)).rejects.toBeInstanceOf(CoordinatorConnectionError);
    await other.runWatchers();
    expect(other.isLeaderOf(group)).toBe(true);
    expect(leader.isLeaderOf(group)).toBe(false);
    expect(events.map((event) => event.type)).toContain('LeadershipLost');
  });
});

describe('A release in flight', () => {
  const failing = useFailing();

  // Guards against two believers: the backend may free the lock and grant it
  // to a waiter before the releaser hears back, so the releaser stops
  // believing the moment it calls release().
  it('isHeld and isStillOwner() turn false as release() is called, before it answers', async () => {
    const url = failing.url({ lock_timeout: 30, timeout: 30 });
    const holder = await failing.start(url);
    const lock = holder.getLock(uid('lock'));
    expect(await lock.acquire()).toBe(true);
    let answer!: () => void;
    holder.faults.before('release', () => new Promise<void>((resolve) => (answer = resolve)));

    const released = lock.release();
    expect(lock.isHeld).toBe(false);
    expect(await lock.isStillOwner()).toBe(false);
    expect(await lock.release()).toBe(false); // one release at a time
    answer();
    expect(await released).toBe(true);
    expect(lock.isHeld).toBe(false);
  });
});
