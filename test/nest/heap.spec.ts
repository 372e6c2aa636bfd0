/**
 * Heap use stays flat over many guarded calls. On Node 20 (our `engines`
 * floor) `AbortSignal.any` leaves a registration on every long-lived signal
 * it is given; `@WithLock` linked each call's signal to the application's
 * shutdown signal that way, so 300 k calls took the heap from 11 to 40 MB.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { CoordinationModule, currentLockSignal, WithLock } from '../../lib/index.js';
import { uid } from '../support/drivers.js';
import { createApp } from './support.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('heap use of guarded calls', () => {
  const apps: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('stays flat over 100 000 @WithLock calls', async () => {
    const lockName = uid('heap');
    @Injectable()
    class Counter {
      count = 0;
      @WithLock(lockName)
      async tick() {
        if (currentLockSignal()?.aborted === false) this.count++;
      }
    }
    const app = await createApp([CoordinationModule.forRoot({ url: `memory://${uid('heap')}` })], [Counter]);
    apps.push(app);
    const counter = app.get(Counter);
    for (let i = 0; i < 5_000; i++) await counter.tick(); // warm up: JIT, caches
    const before = heapAfterGc();
    for (let i = 0; i < 100_000; i++) await counter.tick();
    const grownMb = (heapAfterGc() - before) / 2 ** 20;
    expect(counter.count).toBe(105_000);
    expect(grownMb).toBeLessThan(4);
  }, 120_000);
});
