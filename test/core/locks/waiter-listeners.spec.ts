/**
 * Any number of handles may wait on one coordinator without a listener
 * warning (docs/semantics.md#locks).
 */
import { describe, expect, it } from 'vitest';
import { uid, useMemory } from '../support.js';

describe('many blocked acquires on one coordinator', () => {
  const mem = useMemory();

  it('11 handles waiting on one coordinator raise no MaxListenersExceededWarning', async () => {
    const [holder, waiter] = [await mem.start(), await mem.start()];
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const names = Array.from({ length: 11 }, () => uid('lock'));
      for (const n of names) expect(await holder.getLock(n).acquire()).toBe(true);
      const waits = names.map((n) => waiter.getLock(n).acquire({ timeoutMs: 50 }));
      await Promise.all(waits);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });
});
