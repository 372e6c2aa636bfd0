/**
 * One long-lived `signal` passed to many acquires leaks nothing
 * (docs/semantics.md#locks). `AbortSignal.any` leaks on Node 20 (our `engines`
 * floor): every signal it makes stays registered on its long-lived sources, so
 * an `acquire({ signal })` that linked the caller's signal that way grew the
 * heap with every call (300 k acquires took it from 11 to 40 MB). Measured in
 * a child process run with `--expose-gc`, on the compiled lib.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CompiledLib, compileLib, runNode } from '../../support/compiled-lib.js';

/** Heap growth we accept after 100 k acquires; a registration left per call costs about 10 MB. */
const MAX_GROWTH_BYTES = 4 * 1024 * 1024;

describe('acquire({ signal }) with one long-lived signal', () => {
  let lib: CompiledLib;
  beforeAll(async () => {
    lib = await compileLib();
  }, 120_000);
  afterAll(() => lib?.remove());

  // Guards against linking the caller's signal with `AbortSignal.any` (or
  // any listener not removed when the acquire settles): the heap would grow
  // with every call on a signal that lives as long as the app.
  it('keeps the heap flat over 100 000 acquires and a few thousand timed-out waits', async () => {
    const script = await lib.script(
      'signal-leak.mjs',
      `
import { setMaxListeners } from 'node:events';
import { getCoordinator } from ${JSON.stringify(lib.url('core-entry.js'))};

const coordinator = getCoordinator('memory://signal-leak', 'member');
await coordinator.start();
const { signal } = new AbortController(); // lives as long as the app
// 20 waiters at once listen on it legitimately; a listener left behind per call still warns.
setMaxListeners(50, signal);

const free = coordinator.getLock('free');
async function acquireAndRelease(count, blocking) {
  for (let i = 0; i < count; i++) {
    if (!(await free.acquire({ signal, blocking }))) throw new Error('free lock not acquired');
    await free.release();
  }
}

// Waits that give up: queued behind a holder, then timed out (listeners added and removed).
const holder = coordinator.getLock('busy');
await holder.acquire();
const waiters = Array.from({ length: 20 }, () => coordinator.getLock('busy'));
async function timedOutWaits(count) {
  await Promise.all(
    waiters.map(async (waiter) => {
      for (let i = 0; i < count / waiters.length; i++) {
        if (await waiter.acquire({ signal, timeoutMs: 1 })) throw new Error('busy lock acquired');
      }
    }),
  );
}

function heapUsed() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

// Warm up, so code and caches are in place before the baseline.
await acquireAndRelease(5_000, true);
await acquireAndRelease(1_000, false);
await timedOutWaits(200);
const before = heapUsed();
const started = Date.now();
await acquireAndRelease(100_000, true);
await acquireAndRelease(20_000, false);
await timedOutWaits(3_000);
const after = heapUsed();
await holder.release();
await coordinator.stop();
console.log(JSON.stringify({ before, after, growth: after - before, ms: Date.now() - started }));
`,
    );
    const result = await runNode(script, ['--expose-gc'], 60_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const measured = JSON.parse(result.stdout.trim()) as { before: number; after: number; growth: number; ms: number };
    expect(measured.growth, JSON.stringify(measured)).toBeLessThan(MAX_GROWTH_BYTES);
  }, 60_000);
});
