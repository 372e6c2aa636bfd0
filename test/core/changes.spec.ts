/**
 * `changes$`: the backend's pushes, heard by plain-Node code (docs/api.md#pushes).
 * A push is a hint that runWatchers() has something to do; the joins, leaves
 * and elections still come only from runWatchers()/runElectCoordinator().
 */
import { describe, expect, it } from 'vitest';
import type { Coordinator, GroupChange } from '../../lib/index.js';
import { sleep, uid, useFailing, waitUntil } from '../support/failing-coordinators.js';

function changesOf(coordinator: Coordinator): GroupChange[] {
  const changes: GroupChange[] = [];
  coordinator.changes$.subscribe((change) => changes.push(change));
  return changes;
}

describe('changes$', () => {
  const failing = useFailing();

  // Guards against a membership push that only marks the group for the next
  // run: nothing outside the core could hear it and run the watchers sooner.
  it('hears a membership push for a group with a join or leave watcher, and none for a group it only runs for', async () => {
    const url = failing.url();
    const [watcher, other] = [await failing.start(url), await failing.start(url)];
    const [watched, contested] = [uid('watched'), uid('contested')];
    await watcher.createGroup(watched);
    await watcher.createGroup(contested);
    await watcher.watchJoinGroup(watched, () => undefined);
    await watcher.watchElectedAsLeader(contested, () => undefined);
    const changes = changesOf(watcher);

    await other.joinGroup(watched);
    await other.joinGroup(contested);
    await waitUntil(() => changes.length > 0, 'a push');
    await sleep(20);
    expect(changes).toEqual([{ groupId: watched, kind: 'members' }]);
  });

  // Guards against the core dropping the backend's leaderGone push: a
  // graceful hand-over then waits for the candidates' next scheduled run.
  it('hears that the leader of a group it runs for stood down, and elects only when runWatchers() runs', async () => {
    const url = failing.url();
    const [leader, candidate] = [await failing.start(url), await failing.start(url)];
    const group = uid('g');
    await leader.createGroup(group);
    await leader.watchElectedAsLeader(group, () => undefined);
    await leader.runWatchers();
    expect(leader.isLeaderOf(group)).toBe(true);
    await candidate.watchElectedAsLeader(group, () => undefined);
    await candidate.runWatchers();
    expect(candidate.isLeaderOf(group)).toBe(false);
    const changes = changesOf(candidate);

    await leader.standDownGroupLeader(group);
    await waitUntil(() => changes.length > 0, 'the leaderGone push');
    expect(changes).toEqual([{ groupId: group, kind: 'leader' }]);
    // The push elects nobody by itself.
    expect(candidate.isLeaderOf(group)).toBe(false);
    expect(await candidate.getLeader(group)).toBeNull();
    await candidate.runWatchers();
    expect(candidate.isLeaderOf(group)).toBe(true);
  });

  // Guards against memory:// noticing an expired member only in the session
  // that reads it: Redis's reaper and PostgreSQL's garbage collection push
  // the leave to every watcher, and memory:// must behave the same.
  it('on memory://, a member whose liveness lapsed is pushed to every watcher once any session sees it gone', async () => {
    const base = failing.url();
    const [watcher, reader] = [await failing.start(base), await failing.start(base)];
    const ghost = await failing.start(`${base}?timeout=0.3`);
    const group = uid('g');
    await watcher.createGroup(group);
    await ghost.joinGroup(group);
    await watcher.watchLeaveGroup(group, () => undefined);
    const changes = changesOf(watcher);

    await sleep(400); // the ghost never beats: its liveness lapses
    expect(await reader.getMembers(group)).toEqual(new Set());
    await waitUntil(() => changes.length > 0, 'the push of the prune');
    expect(changes).toEqual([{ groupId: group, kind: 'members' }]);
  });
});
