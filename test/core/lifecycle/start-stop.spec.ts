/**
 * Overlapping `start()` and `stop()` calls, and a `stop()` after a backend
 * error (docs/semantics.md#starting-and-stopping).
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { CoordinationError, getCoordinator } from '../../../lib/index.js';
import { failing, failingUrl } from '../../support/failing-driver.js';
import { uid, useMemory } from '../support.js';

describe('overlapping start() and stop() calls', () => {
  const mem = useMemory();

  it('of two concurrent start() calls the second rejects with CoordinationError', async () => {
    const c = mem.create();
    const results = await Promise.allSettled([c.start(), c.start()]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('two concurrent start({ startHeart }) calls run one heart loop', async () => {
    const c = mem.create('?timeout=0.2&lock_timeout=0.2'); // beat every 100 ms
    const starts: number[] = [];
    const beat = c.heartbeat.bind(c);
    vi.spyOn(c, 'heartbeat').mockImplementation(() => {
      starts.push(performance.now());
      return beat();
    });
    await Promise.allSettled([c.start({ startHeart: true }), c.start({ startHeart: true })]);
    // A heart that never starts fails here; two loops would beat in pairs.
    await vi.waitFor(() => expect(starts.length).toBeGreaterThanOrEqual(4), { timeout: 5000, interval: 20 });
    const gaps = starts.slice(1).map((at, i) => at - starts[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(60);
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

  it('a connection error in the batched stop still releases locks, disconnects, and rethrows', async () => {
    // A network driver whose answer to the stop batch is lost: it reached the backend, the reply did not.
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
    const dropped = new Error('Connection is closed.');
    failing(c).faults.failAfter('disconnect', dropped);
    await expect(c.stop()).rejects.toBe(dropped);
    expect(c.isStarted).toBe(false);
    expect(lock.isHeld).toBe(false);
    expect(await other.getLock(name).acquire({ blocking: false })).toBe(true);
    expect(await other.getMembers(g)).toEqual(new Set());
  });
});
