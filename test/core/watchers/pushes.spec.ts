/**
 * Watchers learn of member changes from the backend's pushes, with the members
 * diff kept as the fallback for a missed message
 * (docs/semantics.md#watchers-and-elections).
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { MemberJoinedGroup, type MemberLeftGroup } from '../../../lib/index.js';
import { sleep, uid, useFailing } from '../../support/failing-coordinators.js';

describe('Membership pushes', () => {
  const failing = useFailing();

  // Guards against a run that reads every watched group although the backend
  // pushes changes: on a network backend that is a read per group per run,
  // however little changed. The fallback is long here so no full read falls due.
  it('runWatchers() reads only the groups a push named', async () => {
    const url = failing.url({ pushes: 30 });
    const [watcher, other] = [await failing.start(url), await failing.start(url)];
    const groups = [uid('g1'), uid('g2'), uid('g3')];
    const joined: MemberJoinedGroup[] = [];
    for (const group of groups) {
      await watcher.createGroup(group);
      await watcher.watchJoinGroup(group, (event) => void joined.push(event));
    }
    const reads: string[][] = [];
    watcher.faults.before('getMembers', (groupIds: readonly string[]) => void reads.push([...groupIds]));

    await watcher.runWatchers(); // the first run reads everything once
    expect(reads).toEqual([groups]);
    reads.length = 0;

    await watcher.runWatchers(); // nothing pushed: nothing read
    expect(reads).toEqual([]);

    await other.joinGroup(groups[1]!); // pushed to the watcher
    await watcher.runWatchers();
    expect(reads).toEqual([[groups[1]]]);
    expect(joined).toEqual([new MemberJoinedGroup(groups[1]!, other.memberId)]);

    reads.length = 0;
    await watcher.runWatchers(); // the push was consumed
    expect(reads).toEqual([]);
  });

  // Guards against trusting pushes alone: pub/sub is at-most-once, so a run
  // must read every watched group once the fallback passed since the last
  // full read, and report what the missed push would have said, once.
  it('a join whose push was missed is reported once the fallback passed', async () => {
    const fallbackMs = 300;
    const url = failing.url({ pushes: fallbackMs / 1000 });
    const [watcher, other] = [await failing.start(url), await failing.start(url)];
    const group = uid('g');
    await watcher.createGroup(group);
    const joined: MemberJoinedGroup[] = [];
    const left: MemberLeftGroup[] = [];
    await watcher.watchJoinGroup(group, (event) => void joined.push(event));
    await watcher.watchLeaveGroup(group, (event) => void left.push(event));
    const fullRead = performance.now();
    await watcher.runWatchers();

    watcher.faults.missPushes(1);
    await other.joinGroup(group);
    expect(watcher.faults.missed).toEqual(['membersChanged']);
    await watcher.runWatchers();
    // Within the fallback, nothing told the watcher: the join is not seen yet (when the CPU kept up).
    if (performance.now() - fullRead < fallbackMs - 50) expect(joined).toEqual([]);

    await sleep(fallbackMs + 50);
    await watcher.runWatchers();
    expect(joined).toEqual([new MemberJoinedGroup(group, other.memberId)]);
    await watcher.runWatchers();
    expect(joined).toHaveLength(1);
    expect(left).toEqual([]);
  });

  it('a leave whose push was missed is reported once the fallback passed', async () => {
    const fallbackMs = 300;
    const url = failing.url({ pushes: fallbackMs / 1000 });
    const [watcher, other] = [await failing.start(url), await failing.start(url)];
    const group = uid('g');
    await watcher.createGroup(group);
    await other.joinGroup(group);
    const left: MemberLeftGroup[] = [];
    await watcher.watchLeaveGroup(group, (event) => void left.push(event));
    await watcher.runWatchers();
    watcher.faults.missPushes(1);
    await other.leaveGroup(group);
    await sleep(fallbackMs + 50);
    await watcher.runWatchers();
    expect(left.map((event) => event.memberId)).toEqual([other.memberId]);
  });
});
