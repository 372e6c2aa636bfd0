/**
 * What a beat lets go of is only what was lost: the let-go of a hold or a
 * leadership that lapsed locally never ends the one the same handle or
 * member won again since (docs/semantics.md#requests-cut-half-way: each
 * acquisition has a holder id of its own; docs/reliability.md, rule 1).
 */
import { describe, expect, it } from 'vitest';
import { LeadershipLost, LockLost } from '../../../lib/index.js';
import { testBackend } from '../../support/drivers.js';
import { deferred, sleep, within } from '../../support/failing-coordinators.js';
import { timedDrivers, useCoordinators } from '../support.js';

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
