/**
 * A watcher run keeps its failures contained, refuses to wait for itself when
 * called from inside one of its own callbacks, and never lets an election wait
 * for user callbacks (docs/semantics.md#watchers-and-elections).
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { CoordinationError, type CoordinationEvent, LeaderElected } from '../../../lib/index.js';
import { deferred, record, sleep, uid, useFailing, waitUntil, within } from '../../support/failing-coordinators.js';

/** What a call from inside a callback came to: its value, its error, or still pending after `ms`. */
async function outcome(call: () => Promise<unknown>, ms = 1_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise((resolve) => (timer = setTimeout(() => resolve('still pending'), ms)));
  try {
    return await Promise.race([call().catch((error: unknown) => error), hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe('Errors stay contained', () => {
  const failing = useFailing();

  // Guards against one failed member read aborting the whole run: the
  // election in the same run must still happen, and its callback run.
  it('a failing member read does not stop the election in the same run', async () => {
    const url = failing.url();
    const [c1, c2] = [await failing.start(url), await failing.start(url)];
    const events = record(c1);
    const [watched, led] = [uid('watched'), uid('led')];
    await c1.createGroup(watched);
    await c1.createGroup(led);
    const joined: unknown[] = [];
    await c1.watchJoinGroup(watched, (event) => void joined.push(event));
    const elected: LeaderElected[] = [];
    await c1.watchElectedAsLeader(led, (event) => void elected.push(event));
    await c2.joinGroup(watched);

    const failure = new Error('member read failed');
    c1.faults.fail('getMembers', failure);
    await expect(c1.runWatchers()).rejects.toBe(failure);
    expect(c1.isLeaderOf(led)).toBe(true);
    expect(elected).toEqual([new LeaderElected(led, c1.memberId)]);
    expect(events).toContainEqual(new LeaderElected(led, c1.memberId));
    expect(await c2.getLeader(led)).toBe(c1.memberId);

    // The failed read is made up for at the next run: the join is reported then.
    await c1.runWatchers();
    expect(joined).toHaveLength(1);
  });

  // Guards against a failed election skipping the member reads of the same run.
  it('a failing election does not stop the member events of the same run', async () => {
    const url = failing.url();
    const [c1, c2] = [await failing.start(url), await failing.start(url)];
    const [watched, led] = [uid('watched'), uid('led')];
    await c1.createGroup(watched);
    await c1.createGroup(led);
    const joined: unknown[] = [];
    await c1.watchJoinGroup(watched, (event) => void joined.push(event));
    await c1.watchElectedAsLeader(led, () => undefined);
    await c2.joinGroup(watched);
    const failure = new Error('election failed');
    c1.faults.fail('elect', failure);
    await expect(c1.runWatchers()).rejects.toBe(failure);
    expect(joined).toHaveLength(1);
  });
});

describe('Calls from inside callbacks', () => {
  const failing = useFailing();

  // Guards against a run that waits for itself: a callback calling
  // runWatchers() would otherwise deadlock the coordinator for good (no later
  // run completes, no leader is elected, stop() hangs).
  it('runWatchers() and runElectCoordinator() from a join callback fail fast, and the coordinator goes on', async () => {
    const url = failing.url();
    const [c1, c2] = [await failing.start(url), await failing.start(url)];
    const [watched, led] = [uid('watched'), uid('led')];
    await c1.createGroup(watched);
    await c1.createGroup(led);
    const inner: unknown[] = [];
    await c1.watchJoinGroup(watched, async () => {
      inner.push(await outcome(() => c1.runWatchers()));
      inner.push(await outcome(() => c1.runElectCoordinator()));
    });
    await c2.joinGroup(watched);
    await within(c1.runWatchers(), 5_000, 'the run whose callback called in');
    expect(inner).toHaveLength(2);
    for (const result of inner) expect(result).toBeInstanceOf(CoordinationError);

    await c1.watchElectedAsLeader(led, () => 'led');
    expect(await within(c1.runWatchers(), 5_000, 'a later run')).toEqual(['led']);
    expect(c1.isLeaderOf(led)).toBe(true);
    const stopStarted = performance.now();
    await within(c1.stop(), 3_000, 'stop()');
    expect(performance.now() - stopStarted).toBeLessThan(2_000);
  });

  it('runWatchers() and runElectCoordinator() from an elected callback fail fast, and the coordinator goes on', async () => {
    const url = failing.url();
    const [c1, c2] = [await failing.start(url), await failing.start(url)];
    const [led, watched] = [uid('led'), uid('watched')];
    await c1.createGroup(led);
    await c1.createGroup(watched);
    const inner: unknown[] = [];
    await c1.watchElectedAsLeader(led, async () => {
      inner.push(await outcome(() => c1.runElectCoordinator()));
      inner.push(await outcome(() => c1.runWatchers()));
    });
    await within(c1.runWatchers(), 5_000, 'the run whose callback called in');
    expect(inner).toHaveLength(2);
    for (const result of inner) expect(result).toBeInstanceOf(CoordinationError);
    expect(c1.isLeaderOf(led)).toBe(true);

    const joined: unknown[] = [];
    await c1.watchJoinGroup(watched, (event) => void joined.push(event));
    await c2.joinGroup(watched);
    await within(c1.runWatchers(), 5_000, 'a later run');
    expect(joined).toHaveLength(1);
    await within(c1.stop(), 3_000, 'stop()');
  });

  // Guards against "inside a callback" outliving the callback: a timer set
  // from a callback runs after the run finished, and must be able to run the
  // watchers (a common way to schedule the next run). Refusing it would stop
  // the app's watcher loop for good.
  it('a run scheduled on a timer from a callback, after the callback returned, is not refused', async () => {
    const url = failing.url();
    const [c1, c2] = [await failing.start(url), await failing.start(url)];
    const [watched, led] = [uid('watched'), uid('led')];
    await c1.createGroup(watched);
    await c1.createGroup(led);
    const later = deferred<unknown>();
    await c1.watchJoinGroup(watched, () => {
      setTimeout(() => {
        c1.runWatchers().then(later.resolve, later.resolve);
      }, 20);
    });
    await c1.watchElectedAsLeader(led, () => 'led');
    await c1.runWatchers(); // wins `led` now, so the timer's run has nothing to deliver
    await c2.joinGroup(watched);
    await c1.runWatchers();
    const result = await within(later.promise, 5_000, 'the run scheduled from the callback');
    expect(result).toEqual([]);
  });
});

describe('An election never waits for user callbacks', () => {
  const failing = useFailing();

  // Guards against elections queued behind user callbacks: a slow join
  // callback would keep a group leaderless (and this member from keeping its
  // leaderships alive) for as long as it runs.
  it("a blocked join callback holds up neither another member's election nor this member's next one", async () => {
    const url = failing.url();
    const [c1, c2] = [await failing.start(url), await failing.start(url)];
    const [watched, led, othersGroup] = [uid('watched'), uid('led'), uid('others')];
    await c1.createGroup(watched);
    await c1.createGroup(led);
    await c2.createGroup(othersGroup);
    const order: string[] = [];
    const gate = deferred();
    const entered = deferred();
    await c1.watchJoinGroup(watched, async () => {
      order.push('join callback started');
      entered.resolve();
      await gate.promise;
      order.push('join callback finished');
    });
    await c2.joinGroup(watched);
    const first = c1.runWatchers();
    await within(entered.promise, 5_000, 'the join callback');

    // Another member's election is not held up.
    await c2.watchElectedAsLeader(othersGroup, () => 'c2');
    expect(await within(c2.runWatchers(), 3_000, "c2's run")).toEqual(['c2']);
    expect(c2.isLeaderOf(othersGroup)).toBe(true);

    // This member's next run reaches the backend and wins at once; its callback waits its turn.
    const c1Events: CoordinationEvent[] = record(c1);
    await c1.watchElectedAsLeader(led, () => void order.push('elected callback'));
    const second = c1.runWatchers();
    await waitUntil(() => c1.isLeaderOf(led), 'c1 leads while the join callback is still pending', 3_000);
    expect(await c2.getLeader(led)).toBe(c1.memberId);
    await sleep(50);
    expect(order).toEqual(['join callback started']);
    expect(c1Events.filter((e) => e instanceof LeaderElected)).toEqual([]);

    gate.resolve();
    await within(Promise.all([first, second]), 5_000, 'both runs');
    expect(order).toEqual(['join callback started', 'join callback finished', 'elected callback']);
    expect(c1Events.filter((e) => e instanceof LeaderElected)).toEqual([new LeaderElected(led, c1.memberId)]);
  });
});
