import { describe, expect, it, vi } from 'vitest';
import { CoordinationError, getCoordinator } from '../../lib/index.js';
import { failing, failingUrl } from '../support/failing-driver.js';
import { sleep, uid, useMemory } from './support.js';

describe('overlapping start() and stop() calls', () => {
  const mem = useMemory();

  it('of two concurrent start() calls the second rejects with CoordinationError', async () => {
    const c = mem.create();
    const results = await Promise.allSettled([c.start(), c.start()]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('two concurrent start({ startHeart }) calls run one heart loop', async () => {
    const c = mem.create('?timeout=0.2&lock_timeout=0.2'); // beat every 100 ms
    const beat = vi.spyOn(c, 'heartbeat');
    await Promise.allSettled([c.start({ startHeart: true }), c.start({ startHeart: true })]);
    await sleep(350);
    // one loop: beats at 0,100,200,300 ms → 4
    expect(beat.mock.calls.length).toBeLessThanOrEqual(5);
  });

  it('of two concurrent stop() calls the second rejects with CoordinationError', async () => {
    const c = await mem.start();
    const results = await Promise.allSettled([c.stop(), c.stop()]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    expect(rejected?.reason).toBeInstanceOf(CoordinationError);
  });
});

describe('stop() after a backend error', () => {
  const mem = useMemory();

  it('a connection error while leaving a group still releases locks, disconnects, and rethrows', async () => {
    // A network driver whose connection drops during stop(): the failing:// test driver's leave throws.
    const url = failingUrl();
    const c = mem.track(getCoordinator(url, uid('m')));
    const other = mem.track(getCoordinator(url.replace(/^failing:/, 'memory:'), uid('m')));
    await other.start();
    await c.start();
    const g = uid('g');
    await c.joinGroupCreate(g);
    const name = uid('lock');
    const lock = c.getLock(name);
    expect(await lock.acquire()).toBe(true);
    failing(c).fail('backendLeaveGroup', new Error('Connection is closed.'));
    await c.stop().catch(() => undefined);
    // A failed leave should not stop stop() from releasing locks and disconnecting.
    expect(c.isStarted).toBe(false);
    expect(await other.getLock(name).acquire({ blocking: false })).toBe(true);
  });
});
