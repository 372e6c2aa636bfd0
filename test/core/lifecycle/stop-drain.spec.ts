/**
 * `stop()` drains work in flight before it disconnects, forgets what it could
 * not give back, and leaves a twin sharing its member id alone
 * (docs/semantics.md#starting-and-stopping, #evictions-and-data-loss).
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { LockLost, type MemberLeftGroup } from '../../../lib/index.js';
import {
  deferred,
  quietLogger,
  record,
  sleep,
  uid,
  useFailing,
  waitUntil,
  within,
} from '../../support/failing-coordinators.js';

describe('stop() drains', () => {
  const failing = useFailing();

  /** A group `c1` runs for, and a second candidate `c2` on the same backend. */
  async function election() {
    const url = failing.url({ lock_timeout: 30, timeout: 30 });
    const [c1, c2] = [await failing.start(url), await failing.start(url)];
    const group = uid('g');
    await c1.createGroup(group);
    await c1.watchElectedAsLeader(group, () => 'c1');
    await c2.watchElectedAsLeader(group, () => 'c2');
    return { c1, c2, group };
  }

  /** `c2` wins at its first run, with no wait for a lease to run out. */
  async function expectWinsAtOnce(c2: Awaited<ReturnType<typeof election>>['c2'], group: string) {
    await c2.runWatchers();
    expect(c2.isLeaderOf(group)).toBe(true);
    expect(await c2.getLeader(group)).toBe(c2.memberId);
  }

  // Guards against stop() disconnecting while an election is in flight: the
  // win lands after the leaderships were given up, and stays in the backend
  // for a whole lease (30 s here) with nobody to lead.
  it('an election won while stop() runs leaves no leadership in the backend', async () => {
    const { c1, c2, group } = await election();
    let stopping: Promise<void> | undefined;
    c1.faults.before('elect', () => {
      stopping = c1.stop(); // stop() begins while the election is on its way to the backend
    });
    const running = c1.runWatchers().catch((error: unknown) => error);
    await waitUntil(() => stopping !== undefined, 'stop() was called');
    await within(stopping!, 5_000, 'stop()');
    await running;
    expect(c1.isStarted).toBe(false);
    expect(c1.isLeaderOf(group)).toBe(false);
    await expectWinsAtOnce(c2, group);
  });

  it('an election slowed by latency when stop() begins leaves no leadership in the backend', async () => {
    const { c1, c2, group } = await election();
    c1.faults.latencyMs = 150;
    const running = c1.runWatchers().catch((error: unknown) => error);
    await sleep(30); // the elect call is on its way
    await within(c1.stop(), 5_000, 'stop()');
    await running;
    expect(c1.isLeaderOf(group)).toBe(false);
    await expectWinsAtOnce(c2, group);
  });

  // Guards against a join that lands after stop() left every group: the
  // member would stay in the group until its liveness expired.
  it('a join in flight when stop() begins does not leave the member in the group', async () => {
    const url = failing.url();
    const [c1, observer] = [await failing.start(url), await failing.start(url)];
    const group = uid('g');
    await observer.createGroup(group);
    c1.faults.latencyMs = 150;
    const joining = c1.joinGroup(group).catch((error: unknown) => error);
    await sleep(30);
    await within(c1.stop(), 5_000, 'stop()');
    await joining;
    expect(await observer.getMembers(group)).not.toContain(c1.memberId);
  });

  // Guards against stop() waiting for user callbacks (they may wait on the app
  // that is shutting down): only the backend phase of a run is drained.
  it('does not wait for a watcher callback that is still running', async () => {
    const url = failing.url();
    const [c1, c2] = [await failing.start(url), await failing.start(url)];
    const group = uid('g');
    await c1.createGroup(group);
    const gate = deferred();
    const entered = deferred();
    await c1.watchJoinGroup(group, async () => {
      entered.resolve();
      await gate.promise;
    });
    await c2.joinGroup(group);
    const running = c1.runWatchers();
    await within(entered.promise, 5_000, 'the join callback');
    const started = performance.now();
    await within(c1.stop(), 3_000, 'stop() while a callback runs');
    expect(performance.now() - started).toBeLessThan(2_000);
    gate.resolve();
    await running;
  });
});

describe('A release failing during stop()', () => {
  const failing = useFailing();

  // Guards against stop() swallowing the failure, and against a session that
  // remembers the hold it failed to release: after start() again, its beats
  // would keep the old hold alive and nobody else could ever take the lock.
  it('rejects with that error, forgets the hold, and a new session does not keep it alive', async () => {
    const url = failing.url({ lock_timeout: 0.5, timeout: 30 });
    const [c1, c2] = [await failing.start(url), await failing.start(url)];
    const events = record(c1);
    const name = uid('lock');
    const lock = c1.getLock(name);
    expect(await lock.acquire()).toBe(true);
    const signal = lock.signal!;

    const failure = new Error('x');
    c1.faults.fail('disconnect', failure);
    await expect(c1.stop()).rejects.toBe(failure);
    expect(c1.isStarted).toBe(false);
    expect(lock.isHeld).toBe(false);
    expect(signal.aborted).toBe(true);
    expect(events.filter((e) => e instanceof LockLost)).toEqual([new LockLost(name, c1.memberId)]);

    await c1.start();
    const taking = c2.getLock(name).acquire({ timeoutMs: 5_000 });
    let settled = false;
    void taking.finally(() => (settled = true));
    // c1 beats well inside the lease all along; the old hold must expire all the same.
    const start = performance.now();
    while (!settled && performance.now() - start < 5_000) {
      await c1.heartbeat();
      await sleep(50);
    }
    expect(await taking).toBe(true);
    expect(lock.isHeld).toBe(false);
  });
});

describe('Stopping one of two coordinators sharing a member id', () => {
  const failing = useFailing();

  // Guards against stop() ending the member id's liveness (or every
  // membership of the id) while a twin still runs: the twin would be evicted
  // from its groups, and come back only with a leave/join flap.
  it('does not drop the other from its groups', async () => {
    const url = failing.url({ timeout: 0.4, lock_timeout: 30 });
    const memberId = uid('twin');
    const logger = quietLogger();
    const first = await failing.start(url, memberId);
    const second = await failing.start(url, memberId, { logger });
    const observer = await failing.start(url);
    const [firstGroup, secondGroup] = [uid('g1'), uid('g2')];
    await first.joinGroupCreate(firstGroup);
    await second.joinGroupCreate(secondGroup);
    const left: MemberLeftGroup[] = [];
    await observer.watchLeaveGroup(secondGroup, (event) => void left.push(event));

    await first.stop();
    expect(await observer.getMembers(secondGroup)).toContain(memberId);
    expect(await observer.getMembers(firstGroup)).not.toContain(memberId); // the first left its own

    const intervalMs = await second.heartbeat();
    expect(await observer.getMembers(secondGroup)).toContain(memberId);
    // The second keeps beating, past the membership timeout: it stays, with no flap.
    const start = performance.now();
    while (performance.now() - start < 1_000) {
      await sleep(intervalMs);
      await second.heartbeat();
      await observer.runWatchers();
    }
    expect(await observer.getMembers(secondGroup)).toContain(memberId);
    expect(second.groups).toContain(secondGroup);
    expect(left).toEqual([]);
    expect(logger.messages).toEqual([]);
  });
});
