/**
 * Leases are counted from before the request, and one deadline timer per
 * coordinator ends a hold or leadership whose lease ran out, with no round
 * trip, even when the backend no longer answers; fencing tokens rise across
 * names (docs/semantics.md#beats-leases-and-connections, #locks;
 * docs/reliability.md, rule 1).
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { getCoordinator, LeadershipLost, LockLost } from '../../../lib/index.js';
import {
  deferred,
  portCalls,
  quietLogger,
  record,
  sleep,
  uid,
  useFailing,
  waitUntil,
  within,
} from '../../support/failing-coordinators.js';

/** How late a timer may fire on a slow, shared CPU before we call it a bug. */
const MARGIN_MS = 150;

describe('Grant leases', () => {
  const failing = useFailing();

  // Guards against counting a grant's lease from when the answer came back:
  // the holder would then believe it holds the lock for a whole round trip
  // after the backend let it go, and a second member could hold it meanwhile.
  it('a hold is declared lost a lease after the request was sent, before the backend lets it go', async () => {
    const url = failing.url({ lock_timeout: 0.5, timeout: 30 });
    const [holder, other] = [await failing.start(url), await failing.start(url)];
    const name = uid('lock');
    const lock = holder.getLock(name);
    const lost = deferred<number>();
    holder.events$.subscribe((event) => {
      if (event instanceof LockLost && event.name === name) lost.resolve(performance.now());
    });
    holder.faults.latencyMs = 200;

    const t0 = performance.now();
    expect(await lock.acquire()).toBe(true);
    const signal = lock.signal!;
    // The other member queues, and is granted the lock when the backend's lease ends (t0 + 200 + 500).
    const taken = other
      .getLock(name)
      .acquire({ timeoutMs: 5_000 })
      .then((got) => ({ got, holderStillBelieves: lock.isHeld, at: performance.now() }));

    const lostAt = await within(lost.promise, 3_000, 'LockLost');
    expect(lostAt - t0).toBeGreaterThanOrEqual(500 - 5);
    expect(lostAt - t0).toBeLessThanOrEqual(500 + MARGIN_MS);
    expect(signal.aborted).toBe(true);
    expect(lock.isHeld).toBe(false);
    // Whenever the other member got it, this one had already stopped believing it held it.
    expect(await taken).toMatchObject({ got: true, holderStillBelieves: false });
  });

  // Guards against a pushed grant counted from when the waiter's code resumed, or
  // not counted at all (a waiter's hold that never expires locally).
  it("a grant pushed to a waiter is counted from the backend's grant time", async () => {
    const url = failing.url({ lock_timeout: 0.5, timeout: 30 });
    const [holder, waiter] = [await failing.start(url), await failing.start(url)];
    const name = uid('lock');
    const held = holder.getLock(name);
    expect(await held.acquire()).toBe(true);
    const lock = waiter.getLock(name);
    const acquiring = lock.acquire({ timeoutMs: 5_000 });
    await sleep(20);
    const released = performance.now();
    expect(await held.release()).toBe(true); // grants the waiter in the backend at once
    expect(await acquiring).toBe(true);
    expect(performance.now() - released).toBeLessThan(400); // by the push, not the holder's expiry
    const lost = deferred<number>();
    waiter.events$.subscribe((event) => event instanceof LockLost && lost.resolve(performance.now()));
    const lostAt = await within(lost.promise, 3_000, 'LockLost');
    expect(lostAt - released).toBeLessThanOrEqual(500 + MARGIN_MS);
  });
});

describe('One deadline timer', () => {
  const failing = useFailing();

  // Guards against an expiry watch that needs a round trip (or switches itself
  // off after one failed check): a holder cut off from its backend would then
  // believe for ever that it holds the lock, and its signal would never fire.
  it('a holder whose beats hang learns of the loss at its lease deadline, with no round trip', async () => {
    const url = failing.url({ lock_timeout: 0.5, timeout: 30 });
    const holder = await failing.start(url, uid('m'), { logger: quietLogger() });
    const events = record(holder);
    const name = uid('lock');
    const group = uid('g');
    await holder.createGroup(group);
    await holder.watchElectedAsLeader(group, () => 'elected');

    const lock = holder.getLock(name);
    const acquiredBefore = performance.now();
    expect(await lock.acquire()).toBe(true);
    const electedBefore = performance.now();
    await holder.runWatchers();
    expect(holder.isLeaderOf(group)).toBe(true);
    const signal = lock.signal!;
    const lockLost = deferred<number>();
    const leadershipLost = deferred<number>();
    holder.events$.subscribe((event) => {
      if (event instanceof LockLost) lockLost.resolve(performance.now());
      if (event instanceof LeadershipLost) leadershipLost.resolve(performance.now());
    });

    holder.faults.hang('beat');
    void holder.heartbeat().catch(() => undefined); // never answers
    const callsBefore = portCalls(holder.faults);

    expect((await within(lockLost.promise, 3_000, 'LockLost')) - acquiredBefore).toBeLessThanOrEqual(500 + MARGIN_MS);
    expect(signal.aborted).toBe(true);
    expect(lock.isHeld).toBe(false);
    expect((await within(leadershipLost.promise, 3_000, 'LeadershipLost')) - electedBefore).toBeLessThanOrEqual(
      500 + MARGIN_MS,
    );
    expect(holder.isLeaderOf(group)).toBe(false);
    expect(events.filter((e) => e instanceof LockLost)).toEqual([new LockLost(name, holder.memberId)]);
    expect(events.filter((e) => e instanceof LeadershipLost)).toEqual([new LeadershipLost(group, holder.memberId)]);
    // Declared lost locally: not one backend call was needed.
    expect(portCalls(holder.faults)).toBe(callsBefore);

    // Healed, the backend's own lease still ends: another member takes the lock and the leadership.
    holder.faults.heal();
    const other = await failing.start(url);
    expect(await other.getLock(name).acquire({ timeoutMs: 5_000 })).toBe(true);
    await other.watchElectedAsLeader(group, () => 'other');
    const deadline = performance.now() + 5_000;
    while (!other.isLeaderOf(group) && performance.now() < deadline) {
      await other.runWatchers();
      await sleep(20);
    }
    expect(await other.getLeader(group)).toBe(other.memberId);
  });

  // Guards against a shared timer that is armed for the first deadline only:
  // a second hold with a later deadline must be ended at its own deadline.
  it('holds taken at different times are each lost at their own deadline', async () => {
    const url = failing.url({ lock_timeout: 0.4, timeout: 30 });
    const holder = await failing.start(url);
    const [first, second] = [holder.getLock(uid('a')), holder.getLock(uid('b'))];
    const lostAt = new Map<string, number>();
    holder.events$.subscribe((event) => {
      if (event instanceof LockLost) lostAt.set(event.name, performance.now());
    });
    const t1 = performance.now();
    expect(await first.acquire()).toBe(true);
    await sleep(200);
    const t2 = performance.now();
    expect(await second.acquire()).toBe(true);
    await waitUntil(() => lostAt.size === 2, 'both holds are lost', 5_000);
    expect(lostAt.get(first.name)! - t1).toBeLessThanOrEqual(400 + MARGIN_MS);
    expect(lostAt.get(second.name)! - t2).toBeGreaterThanOrEqual(400 - 5);
    expect(lostAt.get(second.name)! - t2).toBeLessThanOrEqual(400 + MARGIN_MS);
  });
});

describe('Fencing tokens', () => {
  const failing = useFailing();

  // Guards against per-name counters (each starting at 1): a token must exceed every
  // token the backend issued before, whatever the name (one counter per backend).
  it('strictly increase across different lock names on one backend', async () => {
    const url = failing.url();
    const [c1, c2] = [await failing.start(url), await failing.start(url)];
    const a = c1.getLock(uid('a'));
    const b = c2.getLock(uid('b'));
    const c = c1.getLock(uid('c'));
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(true);
    await a.release();
    expect(await c.acquire()).toBe(true);
    expect(b.fencingToken! > a.fencingToken!).toBe(true);
    expect(c.fencingToken! > b.fencingToken!).toBe(true);
  });

  it('strictly increase across lock names on memory://', async () => {
    const url = `memory://${uid('fence')}`;
    const coordinator = getCoordinator(url, uid('m'));
    await coordinator.start();
    try {
      const tokens: bigint[] = [];
      for (let i = 0; i < 5; i++) {
        const lock = coordinator.getLock(uid(`n${i}`));
        expect(await lock.acquire()).toBe(true);
        tokens.push(lock.fencingToken!);
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]! > tokens[i - 1]!).toBe(true);
    } finally {
      await coordinator.stop();
    }
  });
});
