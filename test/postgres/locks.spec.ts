import { afterEach, describe, expect, it } from 'vitest';
import { type Coordinator, getCoordinator } from '../../lib/index.js';
import { POSTGRES, serverInUse } from '../support/servers.js';
import { adminClient, isolatedUrl } from './support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!(await serverInUse(POSTGRES)))('postgresql:// locks', () => {
  const started: Coordinator[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => (c.isStarted ? c.stop() : undefined)));
  });
  async function start(url: string, memberId: string): Promise<Coordinator> {
    const coordinator = getCoordinator(url, memberId);
    await coordinator.start();
    started.push(coordinator);
    return coordinator;
  }

  it('blocked waiters are served in arrival order across sessions, handles of one session included', async () => {
    const url = isolatedUrl();
    const [holder, c1, c2] = await Promise.all(['holder', 'c1', 'c2'].map((id) => start(url, id)));
    const held = holder.getLock('l');
    expect(await held.acquire()).toBe(true);
    // c1 has two handles in the queue: its session's advisory lock cannot order them; the queue table does.
    const waiters = [c1.getLock('l'), c2.getLock('l'), c1.getLock('l'), c2.getLock('l')];
    const order: (number | string)[] = [];
    const done: Promise<boolean>[] = [];
    for (const [index, waiter] of waiters.entries()) {
      done.push(
        waiter.acquire({ timeoutMs: 5000 }).then(async (acquired) => {
          order.push(index);
          await sleep(5);
          await waiter.release();
          return acquired;
        }),
      );
      await sleep(20);
    }
    expect(await held.release()).toBe(true);
    // A newcomer does not jump the queue.
    const late = holder
      .getLock('l')
      .acquire({ timeoutMs: 5000 })
      .then((acquired) => (order.push('late'), acquired));
    expect(await Promise.all(done)).toEqual([true, true, true, true]);
    expect(await late).toBe(true);
    expect(order).toEqual([0, 1, 2, 3, 'late']);
  });

  it('a waiter given up by timeoutMs leaves no backend blocked and no place in the queue; waiting blocks no backend on the lock', async ({
    onTestFinished,
  }) => {
    const admin = await adminClient(onTestFinished);
    const url = isolatedUrl();
    const schema = new URL(url).searchParams.get('schema')!;
    const [holder, waiter] = await Promise.all([start(url, 'holder'), start(url, 'waiter')]);
    expect(await holder.getLock('l').acquire()).toBe(true);
    const waiting = waiter.getLock('l').acquire({ timeoutMs: 300 });
    await sleep(100);
    const queued = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".coordination_waiters`);
    expect(queued.rows[0].n).toBe(1);
    // Waiting takes no session backend: every backend of ours is idle, none waits on a lock.
    const busy = await admin.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity a JOIN "${schema}".coordination_sessions s ON s.pid = a.pid
       WHERE a.state <> 'idle' OR a.wait_event_type = 'Lock'`,
    );
    expect(busy.rows[0].n).toBe(0);
    // Advisory waits in the server on this schema's keys: on a lock key never; on a session key only
    // the waiter's death watch (docs/postgresql.md#a-holder-that-dies), one per coordinator.
    const waits = async () =>
      (
        await admin.query(
          `SELECT count(*) FILTER (WHERE k IN (SELECT lock_key FROM "${schema}".coordination_holds
                                                UNION SELECT lock_key FROM "${schema}".coordination_waiters))::int AS on_locks,
                  count(*) FILTER (WHERE k IN (SELECT session_key FROM "${schema}".coordination_sessions))::int AS on_sessions
           FROM (SELECT (l.classid::bigint << 32) | l.objid::bigint AS k FROM pg_locks l
                 WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objsubid = 1) w`,
        )
      ).rows[0] as { on_locks: number; on_sessions: number };
    expect(await waits()).toEqual({ on_locks: 0, on_sessions: 1 });
    expect(await waiting).toBe(false);
    const left = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".coordination_waiters`);
    expect(left.rows[0].n).toBe(0);
    // The watch is not renewed once nobody waits: it lets go within its 1 s lock_timeout.
    await expect.poll(waits, { timeout: 2_000, interval: 50 }).toEqual({ on_locks: 0, on_sessions: 0 });
  });

  it('wide keys keep names apart that tooz keys collide on (lock-2 and lock-137)', async () => {
    const wide = await start(isolatedUrl(), 'wide');
    expect(await wide.getLock('lock-2').acquire({ blocking: false })).toBe(true);
    expect(await wide.getLock('lock-137').acquire({ blocking: false })).toBe(true);
    const tooz = await start(isolatedUrl({ lock_key_style: 'tooz' }), 'tooz');
    expect(await tooz.getLock('lock-2').acquire({ blocking: false })).toBe(true);
    expect(await tooz.getLock('lock-137').acquire({ blocking: false })).toBe(false);
  });
});
