/**
 * Statements that fail half way (docs/postgresql.md#when-a-statement-fails-half-way).
 * Session advisory locks are not transactional: a statement that took or
 * let go of one and then failed used to keep the lock change while its rows
 * rolled back, leaving two holders (a release) or a lock nobody holds on
 * record (an acquire, an election). Each test makes the statement fail for
 * real: another session holds a table lock on one of our tables (only on
 * this test's own schema), so the statement waits past its
 * `statement_timeout` and is cancelled by the server.
 */
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type Coordinator, getCoordinator, LockLost } from '../../lib/index.js';
import { POSTGRES, serverInUse } from '../support/servers.js';
import { adminClient, isolatedUrl } from './support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!(await serverInUse(POSTGRES)))('postgresql:// statements that fail half way', () => {
  const started: Coordinator[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => (c.isStarted ? c.stop().catch(() => undefined) : undefined)));
  });
  async function start(url: string, memberId: string): Promise<Coordinator> {
    const coordinator = getCoordinator(url, memberId);
    await coordinator.start();
    started.push(coordinator);
    return coordinator;
  }
  /** Two URLs on one schema: `slow` cancels any statement after 300 ms. */
  function urls(): { url: string; slow: string; schema: string } {
    const url = isolatedUrl();
    return { url, slow: `${url}&statement_timeout=0.3`, schema: new URL(url).searchParams.get('schema')! };
  }
  /** Hold `table` of the schema locked in `mode` from another session until `release()`. */
  async function lockTable(admin: pg.Client, schema: string, table: string, mode: string) {
    await admin.query('BEGIN');
    await admin.query(`LOCK TABLE "${schema}".coordination_${table} IN ${mode} MODE`);
    return { release: () => admin.query('COMMIT') };
  }

  it('a release() that fails after its unlock never leaves two holders: the holder stops believing and the lock is let go', async ({
    onTestFinished,
  }) => {
    const admin = await adminClient(onTestFinished);
    const { url, slow, schema } = urls();
    const a = await start(slow, 'a');
    const c = await start(url, 'c');
    const lost: unknown[] = [];
    a.events$.subscribe((event) => event instanceof LockLost && lost.push(event));
    const held = a.getLock('L');
    expect(await held.acquire({ blocking: false })).toBe(true);
    const waiter = c.getLock('L');
    const granted = waiter.acquire({ timeoutMs: 15_000 });
    await sleep(100); // c is queued
    let both = false;
    const watch = setInterval(() => (both ||= held.isHeld && waiter.isHeld), 2);
    onTestFinished(() => clearInterval(watch));

    // release() deletes the hold, then must read the queue to wake c: that read waits and is cancelled.
    const table = await lockTable(admin, schema, 'waiters', 'ACCESS EXCLUSIVE');
    const released = held.release().then(
      () => 'released',
      (error: unknown) => error,
    );
    await sleep(900);
    await table.release();
    expect(await granted).toBe(true);
    both ||= held.isHeld && waiter.isHeld;
    const answer = await released;
    clearInterval(watch);
    expect(both).toBe(false);
    expect(held.isHeld).toBe(false);
    expect(await held.isStillOwner()).toBe(false);
    // A release that failed ended the belief as lost (LockLost); one that went through is not a loss.
    expect(lost.length).toBe(answer === 'released' ? 0 : 1);
    // a beats fine afterwards, and holds nothing on record.
    await a.heartbeat();
    const rows = await admin.query(
      `SELECT s.member_id FROM "${schema}".coordination_holds h JOIN "${schema}".coordination_sessions s USING (session_key)`,
    );
    expect(rows.rows).toEqual([{ member_id: 'c' }]);
  });

  it('an acquire() that fails after taking the advisory lock leaks nothing: another member takes the lock next', async ({
    onTestFinished,
  }) => {
    const admin = await adminClient(onTestFinished);
    const { url, slow, schema } = urls();
    const a = await start(slow, 'a');
    const c = await start(url, 'c');
    // The hold's row cannot be written: the statement waits past its timeout, after the lock was tried.
    const table = await lockTable(admin, schema, 'holds', 'EXCLUSIVE');
    await expect(a.getLock('L').acquire({ blocking: false })).rejects.toThrow();
    await table.release();
    expect(await c.getLock('L').acquire({ blocking: false })).toBe(true);
  });

  it('an election that fails after taking the leadership key leaks nothing: another candidate wins next', async ({
    onTestFinished,
  }) => {
    const admin = await adminClient(onTestFinished);
    const { url, slow, schema } = urls();
    const a = await start(slow, 'a');
    const c = await start(url, 'c');
    await a.joinGroupCreate('g');
    await c.joinGroup('g');
    await a.watchElectedAsLeader('g', () => 'a');
    await c.watchElectedAsLeader('g', () => 'c');
    const table = await lockTable(admin, schema, 'leaders', 'EXCLUSIVE');
    await expect(a.runWatchers()).rejects.toThrow();
    await table.release();
    expect(await c.runWatchers()).toEqual(['c']);
    expect(await c.getLeader('g')).toBe('c');
    expect(a.isLeaderOf('g')).toBe(false);
  });

  it('a garbage collection that times out never fails the beats: liveness does not depend on it', async ({
    onTestFinished,
  }) => {
    const admin = await adminClient(onTestFinished);
    const { slow, schema } = urls();
    const a = await start(slow, 'a');
    await a.joinGroupCreate('g');
    // Garbage collection deletes from members; beats only read it.
    const table = await lockTable(admin, schema, 'members', 'EXCLUSIVE');
    onTestFinished(() => table.release().then(() => undefined));
    // Make the next beat's collection due now (it runs at most every 10 s).
    (a as unknown as { backend: { lastGc: number } }).backend.lastGc = 0;
    for (let beat = 0; beat < 3; beat++) await expect(a.heartbeat()).resolves.toBeGreaterThan(0);
  });
});
