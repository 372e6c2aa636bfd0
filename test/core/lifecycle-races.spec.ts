import { MemoryCoordinator } from '../../lib/drivers/memory/index.js';
import { describe, expect, it, vi } from 'vitest';
import { CoordinationError, getCoordinator, registerDriver } from '../../lib/index.js';
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
    // Simulate a network driver whose connection drops during stop(): subclass the memory driver.
    class Flaky extends MemoryCoordinator {
      protected override async backendLeaveGroup(): Promise<void> {
        throw new Error('Connection is closed.');
      }
    }
    const scheme = 'flakymem';
    registerDriver(scheme, (url, id, options) => new Flaky(new URL(url.href.replace(scheme, 'memory')), id, options));
    const url = mem.url().replace('memory', scheme);
    const c = mem.track(getCoordinator(url, uid('m')));
    const other = await mem.start();
    await c.start();
    const g = uid('g');
    await c.joinGroupCreate(g);
    const name = uid('lock');
    const lock = c.getLock(name);
    expect(await lock.acquire()).toBe(true);
    await c.stop().catch(() => undefined);
    // A failed leave should not stop stop() from releasing locks and disconnecting.
    expect(c.isStarted).toBe(false);
    expect(await other.getLock(name).acquire({ blocking: false })).toBe(true);
  });
});
