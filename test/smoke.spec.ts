import { describe, it, expect } from 'vitest';
import { getCoordinator } from '../lib/index.js';

describe('smoke', () => {
  it('joins, elects and locks', async () => {
    const c = getCoordinator('memory://smoke', 'a');
    await c.start();
    await c.joinGroupCreate('g', { x: 1 });
    expect(await c.getMembers('g')).toEqual(new Set(['a']));
    expect(await c.getMemberCapabilities('g', 'a')).toEqual({ x: 1 });
    const events: unknown[] = [];
    await c.watchElectedAsLeader('g', (e) => events.push(e));
    await c.runWatchers();
    expect(await c.getLeader('g')).toBe('a');
    const l = c.getLock('l');
    expect(await l.acquire()).toBe(true);
    expect(l.fencingToken).toBe(1n);
    expect(await l.acquire()).toBe(false);
    expect(await l.release()).toBe(true);
    await c.stop();
  });
});
