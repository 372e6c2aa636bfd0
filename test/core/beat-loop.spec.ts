/**
 * The one beat loop (docs/api.md#the-beat-loop): tooz's subtraction (the next
 * run is due the interval minus the run's own time), used by
 * start({ startHeart: true }) and by the Nest layer's jobs; `runSoon()`
 * brings a run forward and coalesces.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { PacedLoop } from '../../lib/core/paced-loop.js';
import { quietLogger, sleep, uid, useFailing, waitUntil } from '../support/failing-coordinators.js';

/** How late a timer may fire on a slow, shared CPU before we call it a bug. */
const MARGIN_MS = 80;

describe('The beat loop', () => {
  const failing = useFailing();

  // Guards against a background heart that waits the whole interval after
  // each beat: a beat that takes `d` ms then pushes every later beat `d` ms
  // further out, and holds whose lease is two intervals lapse sooner than
  // they should on a slow backend.
  it('start({ startHeart: true }) begins each beat the interval after the last began, minus nothing more', async () => {
    const c = failing.create(failing.url({ timeout: 0.4, lock_timeout: 0.4 }), uid('m'), { logger: quietLogger() });
    const slowMs = 120;
    const began: number[] = [];
    c.faults.before('beat', async () => {
      began.push(performance.now());
      await sleep(slowMs);
    });
    await c.start({ startHeart: true });
    const intervalMs = c.faults.backend.beatIntervalMs;
    expect(intervalMs).toBe(200);
    await waitUntil(() => began.length >= 5, 'five beats', 5_000);
    await c.stop();
    const gaps = began.slice(1, 5).map((at, i) => at - began[i]!);
    // Waiting the full interval after each beat would space them intervalMs + slowMs apart.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(intervalMs - 5);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeLessThan(intervalMs + slowMs / 2);
  });

  it('a beat longer than the interval is warned about, and the next begins at once', async () => {
    const logger = quietLogger();
    const c = failing.create(failing.url({ timeout: 0.4, lock_timeout: 0.4 }), uid('m'), { logger });
    const began: number[] = [];
    c.faults.before('beat', async () => {
      began.push(performance.now());
      if (began.length === 2) await sleep(260);
    });
    await c.start({ startHeart: true });
    await waitUntil(() => began.length >= 3, 'three beats', 5_000);
    await c.stop();
    expect(began[2]! - began[1]!).toBeLessThan(260 + MARGIN_MS);
    expect(logger.messages.join('\n')).toMatch(/Heartbeat of m-\S+ took \d+ ms, longer than its 200 ms interval/);
  });
});

describe('PacedLoop', () => {
  function loop(everyMs: number, runMs = 0) {
    const runs: number[] = [];
    const paced = new PacedLoop({
      run: async () => {
        runs.push(performance.now());
        if (runMs > 0) await sleep(runMs);
      },
      everyMs: () => everyMs,
    });
    return { paced, runs };
  }

  it('runSoon() brings the next run forward, and calls close together make one run', async () => {
    const { paced, runs } = loop(10_000);
    paced.start();
    const asked = performance.now();
    for (let i = 0; i < 5; i++) paced.runSoon(5);
    await waitUntil(() => runs.length === 1, 'the early run', 1_000);
    expect(runs[0]! - asked).toBeLessThan(5 + MARGIN_MS);
    await sleep(50);
    expect(runs).toHaveLength(1); // one run for the five calls, and the interval is back to 10 s
    await paced.stop();
  });

  it('a runSoon() during a run is followed by another run that soon after it', async () => {
    const { paced, runs } = loop(10_000, 40);
    paced.start(0);
    await waitUntil(() => runs.length === 1, 'the first run', 1_000);
    paced.runSoon(5); // the run in progress may have read before the push: one more run follows
    await waitUntil(() => runs.length === 2, 'the run after it', 1_000);
    expect(runs[1]! - runs[0]!).toBeLessThan(40 + 5 + MARGIN_MS);
    await paced.stop();
  });

  it('after stop(), runSoon() starts nothing', async () => {
    const { paced, runs } = loop(10_000);
    paced.start();
    await paced.stop();
    paced.runSoon(0);
    await sleep(30);
    expect(runs).toEqual([]);
    expect(paced.isAlive).toBe(false);
  });
});
