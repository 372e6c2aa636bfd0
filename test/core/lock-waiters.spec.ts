/**
 * The core keeps who waits for a lock (docs/drivers.md#locks): pushes are
 * coalesced into one look, and a grant found by a look or a beat is believed
 * no longer than the backend keeps it.
 */
import { describe, expect, it } from 'vitest';
import { sleep, uid, useFailing } from '../support/failing-coordinators.js';

describe('Waiting for a lock', () => {
  const failing = useFailing();

  // Guards against a grant found by the beat (its push missed) whose lease the
  // backend had started at the grant, while the core counted it from the
  // beat: the waiter believed it held the lock after the backend let it go.
  it('a grant found by the beat is believed no longer than the backend keeps it', async () => {
    const url = failing.url({ lock_timeout: 1, timeout: 30 });
    const [holder, waiter, other] = [await failing.start(url), await failing.start(url), await failing.start(url)];
    const name = uid('lock');
    const held = holder.getLock(name);
    expect(await held.acquire()).toBe(true);
    const lock = waiter.getLock(name);
    const acquiring = lock.acquire({ timeoutMs: 10_000 });
    await sleep(50); // queued in the backend
    waiter.faults.missPushes();
    expect(await held.release()).toBe(true); // granted in the backend now; the push is swallowed
    await sleep(600);
    await waiter.heartbeat(); // finds the grant
    expect(await acquiring).toBe(true);
    await sleep(600); // 1.2 s after the grant, 0.6 s after the beat that found it
    expect(lock.isHeld).toBe(true);
    expect(await other.getLock(name).acquire({ blocking: false })).toBe(false);
  });

  // Guards against one backend call per push: waiters granted together are
  // looked at together, in one call.
  it('five shared waiters granted by one release are confirmed by one look', async () => {
    const url = failing.url({ lock_timeout: 10, timeout: 30 });
    const [holder, waiter] = [await failing.start(url), await failing.start(url)];
    const name = uid('lock');
    const held = holder.getLock(name);
    expect(await held.acquire()).toBe(true);
    const locks = Array.from({ length: 5 }, () => waiter.getLock(name));
    const acquiring = locks.map((lock) => lock.acquire({ shared: true, timeoutMs: 5_000 }));
    await sleep(50); // all queued
    const before = waiter.faults.calls('look');
    expect(await held.release()).toBe(true);
    expect(await Promise.all(acquiring)).toEqual([true, true, true, true, true]);
    expect(waiter.faults.calls('look') - before).toBe(1);
  });
});
