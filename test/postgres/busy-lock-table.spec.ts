/**
 * A server whose lock table is large: another session holds 150 000
 * advisory locks, so `pg_locks` (materialised whole whatever the filter)
 * takes longer to read than a 100 ms `statement_timeout` allows. Nothing on
 * the hot path reads it any more (docs/postgresql.md#a-busy-lock-table): a
 * release wakes its waiter, beats with holds, leaderships and a queued
 * waiter succeed, and the holder never keeps believing a lock it let go.
 * Our own cluster, the fault suite's (the shared server's lock table is far too small).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Coordinator, getCoordinator } from '../../lib/index.js';
import { PostgresCluster, serverBinaryInUse } from '../faults/servers.js';

const ADVISORY_LOCKS = 150_000;
const BEAT_MEASURED_AT = 100_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const runs = serverBinaryInUse('postgres');

describe.skipIf(!runs)('postgresql:// with 150 000 advisory locks on the server', () => {
  let server: PostgresCluster;
  let crowd: pg.Client;
  const started: Coordinator[] = [];
  beforeAll(async () => {
    // 150 000 locks need a lock table of at least that many slots (max_locks_per_transaction × max_connections).
    server = await PostgresCluster.start({ max_locks_per_transaction: '2000', max_connections: '100' });
    crowd = new pg.Client({ connectionString: server.url });
    await crowd.connect();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(started.map((c) => (c.isStarted ? c.stop().catch(() => undefined) : undefined)));
    await crowd?.end().catch(() => undefined);
    await server?.stop();
  }, 30_000);

  async function start(memberId: string, query: string): Promise<Coordinator> {
    const coordinator = getCoordinator(`${server.url}?${query}`, memberId);
    await coordinator.start();
    started.push(coordinator);
    return coordinator;
  }

  /** Wait until lock L's queue holds exactly these members' requests, in this order. */
  async function queued(members: string[]): Promise<void> {
    let order: string[] = [];
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; await sleep(10)) {
      const { rows } = await crowd.query<{ member_id: string }>(
        `SELECT s.member_id FROM public.coordination_waiters w
         JOIN public.coordination_sessions s USING (session_key) WHERE w.lock_name = 'L' ORDER BY w.id`,
      );
      order = rows.map((row) => row.member_id);
      if (order.length >= members.length) break;
    }
    expect(order).toEqual(members);
  }

  it('release wakes the waiter, never two holders; beats succeed under a 100 ms statement timeout', async () => {
    const a = await start('a', 'statement_timeout=0.1');
    const c = await start('c', '');
    await a.joinGroupCreate('g');
    await a.watchElectedAsLeader('g', () => undefined);
    await a.runWatchers();
    const extra = await Promise.all(Array.from({ length: 10 }, (_, i) => a.getLock(`held-${i}`)));
    for (const lock of extra) expect(await lock.acquire({ blocking: false })).toBe(true);
    const held = a.getLock('L');
    expect(await held.acquire({ blocking: false })).toBe(true);
    const waiter = c.getLock('L');
    const granted = waiter.acquire({ timeoutMs: 20_000 });
    // And one of a's own handles queued behind c, so a's beats try a waiter too. Only once c is in the
    // queue: two sessions' requests sent together reach the server in either order, and the queue is
    // served in arrival order (docs/postgresql.md), so `second` queued first would rightly take L.
    await queued(['c']);
    const second = a.getLock('L').acquire({ timeoutMs: 20_000 });
    await queued(['c', 'a']);

    // The beat measured at 100 000 entries in pg_locks (docs/postgresql.md#a-busy-lock-table), then 150 000.
    for (const [from, to] of [
      [1, BEAT_MEASURED_AT],
      [BEAT_MEASURED_AT + 1, ADVISORY_LOCKS],
    ]) {
      await crowd.query(`SELECT pg_advisory_lock(k) FROM generate_series(${from}::bigint, ${to}) k`);
      const scan = performance.now();
      await crowd.query('SELECT count(*) FROM pg_locks');
      const scanMs = performance.now() - scan;
      const beats: number[] = [];
      for (let i = 0; i < 20; i++) {
        const since = performance.now();
        await a.heartbeat();
        beats.push(performance.now() - since);
      }
      beats.sort((x, y) => x - y);
      console.log(
        `pg_locks with ${to} advisory locks: one read ${scanMs.toFixed(1)} ms; a beat (11 holds, ` +
          `1 leadership, 1 queued waiter): p50 ${beats[10]!.toFixed(1)} ms, max ${beats[19]!.toFixed(1)} ms`,
      );
      expect(beats[19]).toBeLessThan(100);
    }

    let both = false;
    const watch = setInterval(() => (both ||= held.isHeld && waiter.isHeld), 2);
    const answer = await held.release().then(
      () => 'released',
      (error: unknown) => error,
    );
    expect(await granted).toBe(true);
    both ||= held.isHeld && waiter.isHeld;
    clearInterval(watch);
    expect(answer).toBe('released');
    expect(both).toBe(false);
    expect(held.isHeld).toBe(false);
    expect(await held.isStillOwner()).toBe(false);
    await waiter.release();
    expect(await second).toBe(true);
    await crowd.query('SELECT pg_advisory_unlock_all()');
  }, 60_000);
});
