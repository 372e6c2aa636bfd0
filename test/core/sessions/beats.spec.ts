/**
 * A beat is one port call that refreshes everything the member has; a beat cut
 * half way extends nothing locally; a grant whose push was missed is
 * delivered by the next beat (docs/semantics.md#beats-leases-and-connections,
 * #requests-cut-half-way).
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { CoordinatorConnectionError, type Lock, LockLost } from '../../../lib/index.js';
import { ConnectionDropped } from '../../support/faulty-backend.js';
import type { FailingCoordinator } from '../../support/failing-driver.js';
import { deferred, portCalls, record, sleep, uid, useFailing, within } from '../../support/failing-coordinators.js';

/** How late a timer may fire on a slow, shared CPU before we call it a bug. */
const MARGIN_MS = 150;

/** `count` held locks, a leadership and three joined groups on `coordinator`. */
async function holdEverything(coordinator: FailingCoordinator, count: number) {
  const locks: Lock[] = [];
  for (let i = 0; i < count; i++) {
    const lock = coordinator.getLock(uid(`lock${i}`));
    expect(await lock.acquire({ blocking: false })).toBe(true);
    locks.push(lock);
  }
  const groups = [uid('g1'), uid('g2'), uid('g3')];
  for (const group of groups) await coordinator.joinGroupCreate(group, { group });
  const led = uid('led');
  await coordinator.createGroup(led);
  await coordinator.watchElectedAsLeader(led, () => 'elected');
  await coordinator.runWatchers();
  expect(coordinator.isLeaderOf(led)).toBe(true);
  return { locks, groups, led };
}

describe('One beat, one port call', () => {
  const failing = useFailing();

  // Guards against a beat made of a loop of per-item calls (one per lock, group
  // or leadership), which costs a round trip per item on a network backend,
  // and against a beat that refreshes only some of what is held.
  it.each([1, 100])(
    'heartbeat() with %i held locks, a leadership and 3 joined groups makes one beat call and keeps all alive',
    async (count) => {
      const url = failing.url({ lock_timeout: 0.6, timeout: 30 });
      const coordinator = await failing.start(url);
      const events = record(coordinator);
      const { locks, groups, led } = await holdEverything(coordinator, count);
      const observer = await failing.start(url);

      const before = { beat: coordinator.faults.calls('beat'), all: portCalls(coordinator.faults) };
      const intervalMs = await coordinator.heartbeat();
      expect(coordinator.faults.calls('beat')).toBe(before.beat + 1);
      expect(portCalls(coordinator.faults)).toBe(before.all + 1);
      expect(intervalMs).toBeGreaterThan(0);
      expect(intervalMs).toBeLessThanOrEqual(300); // at most half the lock timeout

      // Beaten at the interval heartbeat() returns, everything outlives the lock timeout several times over.
      const start = performance.now();
      while (performance.now() - start < 3 * 600) {
        await sleep(intervalMs);
        await coordinator.heartbeat();
      }
      expect(events.filter((e) => e instanceof LockLost)).toEqual([]);
      for (const lock of locks) {
        expect(lock.isHeld).toBe(true);
        expect(lock.signal?.aborted).toBe(false);
        expect(await lock.isStillOwner()).toBe(true);
      }
      // In the backend too: nobody else can take any of them.
      expect(await observer.getLock(locks[locks.length - 1]!.name).acquire({ blocking: false })).toBe(false);
      expect(coordinator.isLeaderOf(led)).toBe(true);
      expect(await observer.getLeader(led)).toBe(coordinator.memberId);
      for (const group of groups) expect(await observer.getMembers(group)).toContain(coordinator.memberId);
    },
  );
});

describe('A beat cut half way', () => {
  const failing = useFailing();

  // Guards against a failed beat that extends leases locally anyway: the
  // backend may or may not have applied it, so the old deadlines must stand.
  it('rejects naming the member, and extends no hold locally', async () => {
    const url = failing.url({ lock_timeout: 0.6, timeout: 30 });
    const coordinator = await failing.start(url);
    const lock = coordinator.getLock(uid('lock'));
    const acquiredBefore = performance.now();
    expect(await lock.acquire()).toBe(true);
    const lost = deferred<number>();
    coordinator.events$.subscribe((event) => event instanceof LockLost && lost.resolve(performance.now()));
    await sleep(300);

    coordinator.faults.failAfter('beat', new ConnectionDropped('x')); // reaches the backend, the answer is lost
    const failed = await coordinator.heartbeat().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(CoordinatorConnectionError);
    expect((failed as Error).message).toContain(coordinator.memberId);
    expect(coordinator.faults.calls('beat')).toBe(1);

    // The backend extended it to ~t0 + 900, but locally the old deadline (t0 + 600) stands.
    const lostAt = await within(lost.promise, 3_000, 'LockLost at the old deadline');
    expect(lostAt - acquiredBefore).toBeLessThanOrEqual(600 + MARGIN_MS);
    expect(lock.isHeld).toBe(false);
  });

  // Guards against a half-done beat poisoning the next: what it was to hand
  // back or refresh is tried again, and nothing held is reported lost.
  it('the next beat succeeds and nothing is reported lost', async () => {
    const url = failing.url({ lock_timeout: 0.6, timeout: 30 });
    const coordinator = await failing.start(url);
    const events = record(coordinator);
    const { locks, led } = await holdEverything(coordinator, 3);
    coordinator.faults.failAfter('beat', new ConnectionDropped('x'));
    await expect(coordinator.heartbeat()).rejects.toBeInstanceOf(CoordinatorConnectionError);
    const intervalMs = await coordinator.heartbeat();
    const start = performance.now();
    while (performance.now() - start < 2 * 600) {
      await sleep(intervalMs);
      await coordinator.heartbeat();
    }
    expect(events.filter((e) => e instanceof LockLost || e.type === 'LeadershipLost')).toEqual([]);
    for (const lock of locks) expect(await lock.isStillOwner()).toBe(true);
    expect(coordinator.isLeaderOf(led)).toBe(true);
  });
});

describe('A missed grant push', () => {
  const failing = useFailing();

  // Guards against a waiter that learns of its grant only by the push: when
  // the push is lost (pub/sub is at-most-once), the beat must deliver it, or
  // the waiter waits while holding the lock in the backend.
  it("the waiter's next heartbeat() delivers the grant", async () => {
    const url = failing.url({ lock_timeout: 10, timeout: 30 });
    const [holder, waiter] = [await failing.start(url), await failing.start(url)];
    const name = uid('lock');
    const held = holder.getLock(name);
    expect(await held.acquire()).toBe(true);
    const lock = waiter.getLock(name);
    let settled = false;
    const acquiring = lock.acquire({ timeoutMs: 10_000 }).finally(() => (settled = true));
    await sleep(50); // queued in the backend

    waiter.faults.missPushes();
    expect(await held.release()).toBe(true); // granted in the backend; the push is swallowed
    await sleep(200);
    expect(waiter.faults.missed).toContain('granted');
    expect(settled).toBe(false);
    expect(lock.isHeld).toBe(false);

    await waiter.heartbeat();
    expect(await within(acquiring, 2_000, 'the acquire to resolve after the beat')).toBe(true);
    expect(lock.isHeld).toBe(true);
    expect(lock.fencingToken! > held.fencingToken!).toBe(true);
    expect(await lock.isStillOwner()).toBe(true);
  });
});
