/**
 * The core keeps who waits for a lock (docs/drivers.md#locks): pushes are
 * coalesced into one look, and a grant found by a look or a beat is believed
 * no longer than the backend keeps it.
 */
import { describe, expect, it } from 'vitest';
import { sleep, uid, useFailing } from '../../support/failing-coordinators.js';

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

  // Guards against one recheck call per waiter: waiters queued at different
  // times are rechecked together (every `waiterRecheckMs`, 1 s on memory://).
  it('two waiters queued 300 ms apart share one recheck look', async () => {
    const url = failing.url({ lock_timeout: 10, timeout: 30 });
    const [holder, waiter] = [await failing.start(url), await failing.start(url)];
    const [first, second] = [uid('lock'), uid('lock')];
    for (const name of [first, second]) expect(await holder.getLock(name).acquire()).toBe(true);
    const before = waiter.faults.calls('look');
    const waits = [waiter.getLock(first).acquire({ timeoutMs: 1_600 })];
    await sleep(300);
    waits.push(waiter.getLock(second).acquire({ timeoutMs: 1_300 }));
    await sleep(1_200); // past the first one's recheck (at 1 s) and the second's (at 1.3 s)
    expect(waiter.faults.calls('look') - before).toBe(1);
    expect(await Promise.all(waits)).toEqual([false, false]);
  });
});
