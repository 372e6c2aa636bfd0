import { describe, expect, it } from 'vitest';
import { LeaderElected } from '../../lib/index.js';
import { uid, useMemory } from './support.js';

describe('two election steps at once', () => {
  const mem = useMemory();

  it('two concurrent runWatchers() elect the member once', async () => {
    const c = await mem.start();
    const g = uid('g');
    await c.createGroup(g);
    const calls: unknown[] = [];
    await c.watchElectedAsLeader(g, (e) => calls.push(e));
    const events = mem.record(c);
    // e.g. the Nest heart's next tick while a timed-out runWatchers() is still going on
    await Promise.all([c.runWatchers(), c.runWatchers()]);
    expect(calls).toHaveLength(1);
    expect(events.filter((e) => e instanceof LeaderElected)).toHaveLength(1);
  });

  it('runElectCoordinator() concurrent with runWatchers() elects once', async () => {
    const c = await mem.start();
    const g = uid('g');
    await c.createGroup(g);
    const calls: unknown[] = [];
    await c.watchElectedAsLeader(g, (e) => calls.push(e));
    await Promise.all([c.runWatchers(), c.runElectCoordinator()]);
    expect(calls).toHaveLength(1);
  });
});
