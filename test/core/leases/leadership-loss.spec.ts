/**
 * A leadership ends here no later than in the backend: a lapsed lease ends it
 * before another member can be elected, and `deleteGroup()` ends it at once,
 * with `LeadershipLost` (docs/semantics.md#watchers-and-elections;
 * docs/reliability.md, rule 1).
 */
import { describe, expect, it } from 'vitest';
import { LeadershipLost } from '../../../lib/index.js';
import { sleep, uid, useMemory } from '../support.js';

describe('LeadershipLost when leadership ends between beats', () => {
  const mem = useMemory();

  it('a leader whose lease expired stops believing it leads before another member is elected', async () => {
    const q = '?lock_timeout=0.2&timeout=10';
    const [c1, c2] = [await mem.start(q), await mem.start(q)];
    const g = uid('g');
    await c1.createGroup(g);
    await c1.watchElectedAsLeader(g, () => 1);
    await c2.watchElectedAsLeader(g, () => 2);
    const events1 = mem.record(c1);
    await c1.runWatchers();
    expect(c1.isLeaderOf(g)).toBe(true);
    await sleep(300); // c1's heart is late (blocked loop, failing beats): its leadership expires
    await c2.runWatchers();
    expect(c2.isLeaderOf(g)).toBe(true);
    // Locks have an expiry watch that emits LockLost; leadership has none, so @Leader runs on both.
    expect(c1.isLeaderOf(g)).toBe(false);
    expect(events1.filter((e) => e instanceof LeadershipLost)).toHaveLength(1);
  });

  it('deleteGroup() by the leader ends its leadership and emits LeadershipLost at once', async () => {
    const c = await mem.start();
    const g = uid('g');
    await c.createGroup(g);
    await c.watchElectedAsLeader(g, () => 1);
    await c.runWatchers();
    expect(c.isLeaderOf(g)).toBe(true);
    const events = mem.record(c);
    await c.deleteGroup(g); // semantics.md: leadership "ends at once on ... deleteGroup()"
    expect(c.isLeaderOf(g)).toBe(false);
    expect(events.filter((e) => e instanceof LeadershipLost)).toHaveLength(1);
  });
});
