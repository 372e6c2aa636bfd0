/**
 * Runs at once read one after another: a member is elected once, and a late
 * read is never applied over a newer one (docs/semantics.md#watchers-and-elections).
 */
import { describe, expect, it } from 'vitest';
import { getCoordinator, LeaderElected, MemberJoinedGroup, MemberLeftGroup } from '../../../lib/index.js';
import { failing, failingUrl } from '../../support/failing-driver.js';
import { sleep, uid, useMemory } from '../support.js';

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

  it('a run whose read answers late is not applied over a later run: a member that joined is never reported as left', async () => {
    const url = failingUrl();
    const [c, d] = [getCoordinator(url, uid('c')), getCoordinator(url, uid('d'))];
    mem.track(c);
    mem.track(d);
    await Promise.all([c.start(), d.start()]);
    const g = uid('g');
    await c.joinGroupCreate(g);
    const seen: string[] = [];
    await c.watchJoinGroup(g, (e: MemberJoinedGroup) => seen.push(`joined ${e.memberId}`));
    await c.watchLeaveGroup(g, (e: MemberLeftGroup) => seen.push(`left ${e.memberId}`));
    // The first run's answer (taken before d joins) comes back slowly; a second run starts meanwhile.
    let laterRun: Promise<unknown> | undefined;
    let first = true;
    failing(c).faults.after('getMembers', async () => {
      if (!first) return;
      first = false;
      await d.joinGroup(g);
      laterRun = c.runWatchers();
      // Runs read one after another: the later run cannot answer before this one, so do not wait for it.
      await Promise.race([laterRun, sleep(100)]);
    });
    await c.runWatchers();
    await laterRun;
    expect(seen).toEqual([`joined ${d.memberId}`]);
  });
});
