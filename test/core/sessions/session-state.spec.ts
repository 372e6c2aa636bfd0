/**
 * The session brings evicted members back, lets removed memberships and
 * deleted groups' leaderships go at once, and shares no state with callers
 * (docs/semantics.md#membership, #evictions-and-data-loss).
 */
import { describe, expect, it } from 'vitest';
import { type Coordinator, getCoordinator, LeadershipLost } from '../../../lib/index.js';
import { quietLogger, record, sleep, uid, useFailing } from '../../support/failing-coordinators.js';

describe('Evicted members come back', () => {
  const failing = useFailing();

  // Guards against an app stalled past its membership timeout being dropped
  // from its groups for good, with no word (or rejoining with the capabilities
  // it joined with, not those it last set).
  it('a member stalled past its membership timeout rejoins every group at its next beat, with its capabilities', async () => {
    const url = failing.url({ timeout: 0.3, lock_timeout: 30 });
    const logger = quietLogger();
    const [stalled, observer] = [await failing.start(url, uid('m'), { logger }), await failing.start(url)];
    const [g1, g2] = [uid('g1'), uid('g2')];
    await stalled.joinGroupCreate(g1, { zone: 'a' });
    await stalled.joinGroupCreate(g2, { weight: 1 });
    await stalled.updateCapabilities(g2, { weight: 5, tags: ['x'] });

    await sleep(450); // no beat: evicted
    expect(await observer.getMembers(g1)).not.toContain(stalled.memberId);
    expect(await observer.getMembers(g2)).not.toContain(stalled.memberId);

    await stalled.heartbeat();
    expect(await observer.getMembers(g1)).toContain(stalled.memberId);
    expect(await observer.getMembers(g2)).toContain(stalled.memberId);
    expect(await observer.getMemberCapabilities(g1, stalled.memberId)).toEqual({ zone: 'a' });
    expect(await observer.getMemberCapabilities(g2, stalled.memberId)).toEqual({ weight: 5, tags: ['x'] });
    expect(stalled.groups).toEqual(new Set([g1, g2]));
    for (const group of [g1, g2]) {
      expect(logger.messages.some((message) => message.includes(group) && /evict/i.test(message))).toBe(true);
    }
  });

  // Guards against a rejoin that resurrects a membership removed on purpose
  // (tooz's test_watch_join_group_booted_out): a leaveGroup by a coordinator
  // sharing the member id must stay done.
  it('a membership removed by a twin leaveGroup stays removed after the next beat', async () => {
    const url = failing.url({ timeout: 30, lock_timeout: 30 });
    const memberId = uid('twin');
    const logger = quietLogger();
    const member = await failing.start(url, memberId, { logger });
    const twin = await failing.start(url, memberId);
    const observer = await failing.start(url);
    const [removed, kept] = [uid('removed'), uid('kept')];
    await member.joinGroupCreate(removed);
    await member.joinGroupCreate(kept);

    await twin.leaveGroup(removed);
    await member.heartbeat();
    await member.heartbeat();
    expect(await observer.getMembers(removed)).not.toContain(memberId);
    expect(await observer.getMembers(kept)).toContain(memberId);
    expect(member.groups).toEqual(new Set([kept]));
    expect(logger.messages).toEqual([]);
  });

  // Guards against the rejoin being skipped when the eviction is seen by a
  // watcher run first (the run finds this member missing from a group it joined).
  it('a stalled member that runs its watchers before beating is back in its group', async () => {
    const url = failing.url({ timeout: 0.3, lock_timeout: 30 });
    const [stalled, observer] = [
      await failing.start(url, uid('m'), { logger: quietLogger() }),
      await failing.start(url),
    ];
    const group = uid('g');
    await stalled.joinGroupCreate(group);
    await stalled.watchJoinGroup(group, () => undefined);
    await sleep(450);
    await stalled.runWatchers();
    expect(await observer.getMembers(group)).toContain(stalled.memberId);
  });
});

describe('Old leaders do not linger', () => {
  const failing = useFailing();

  // Guards against a leader that believes it leads a group deleted and
  // re-created under it until its next beat, while a new leader is elected.
  it('after its group is deleted and re-created, the old leader stops leading at once', async () => {
    const url = failing.url({ timeout: 30, lock_timeout: 30 });
    const [leader, other] = [await failing.start(url), await failing.start(url)];
    const group = uid('g');
    await leader.createGroup(group);
    await leader.watchElectedAsLeader(group, () => 'old');
    await leader.runWatchers();
    expect(leader.isLeaderOf(group)).toBe(true);
    const events = record(leader);

    await other.deleteGroup(group);
    await other.createGroup(group);
    expect(leader.isLeaderOf(group)).toBe(false); // no beat in between
    expect(events).toEqual([new LeadershipLost(group, leader.memberId)]);

    await other.watchElectedAsLeader(group, () => 'new');
    expect(await other.runWatchers()).toEqual(['new']);
    expect(leader.isLeaderOf(group)).toBe(false);
  });

  // Guards against relying on the push alone: when it is missed, the next beat reconciles.
  it('when the push is missed, the next beat ends the old leadership', async () => {
    const url = failing.url({ timeout: 30, lock_timeout: 30 });
    const [leader, other] = [await failing.start(url), await failing.start(url)];
    const group = uid('g');
    await leader.createGroup(group);
    await leader.watchElectedAsLeader(group, () => 'old');
    await leader.runWatchers();
    const events = record(leader);
    leader.faults.missPushes();
    await other.deleteGroup(group);
    await other.createGroup(group);
    await leader.heartbeat();
    expect(leader.isLeaderOf(group)).toBe(false);
    expect(events).toEqual([new LeadershipLost(group, leader.memberId)]);
  });
});

describe('State not shared with callers', () => {
  const failing = useFailing();

  // Guards against handing out the backend's own Date objects: a caller
  // changing one would rewrite the member's join time for everyone.
  it('getMemberInfo() returns dates the caller can change without changing a later read', async () => {
    const coordinator = await failing.start(failing.url());
    const group = uid('g');
    await coordinator.joinGroupCreate(group, { a: 1 });
    const first = await coordinator.getMemberInfo(group, coordinator.memberId);
    const [created, updated] = [first.createdAt.getTime(), first.updatedAt.getTime()];
    first.createdAt.setTime(0);
    first.updatedAt.setFullYear(1999);
    (first.capabilities as { a: number }).a = 2;
    const again = await coordinator.getMemberInfo(group, coordinator.memberId);
    expect(again.createdAt.getTime()).toBe(created);
    expect(again.updatedAt.getTime()).toBe(updated);
    expect(again.capabilities).toEqual({ a: 1 });
  });

  it('getMembers() returns a set the caller can change without changing a later read', async () => {
    const coordinator = await failing.start(failing.url());
    const group = uid('g');
    await coordinator.joinGroupCreate(group);
    const members = await coordinator.getMembers(group);
    members.add('intruder');
    members.delete(coordinator.memberId);
    expect(await coordinator.getMembers(group)).toEqual(new Set([coordinator.memberId]));
  });

  describe('on memory://', () => {
    // Unstarted: nothing to stop.
    const memory = (): Coordinator => getCoordinator(`memory://${uid('shared')}`, uid('m'));

    // Guards against one mutable Set shared by every memory coordinator: one
    // caller adding to it would change what every other coordinator declares.
    it('characteristics cannot be changed, and no two coordinators share a mutable set', () => {
      const [c1, c2] = [memory(), memory()];
      const before = [...c2.characteristics];
      expect((c1.characteristics as Set<string>).add).toBeUndefined();
      expect((c1.characteristics as Set<string>).delete).toBeUndefined();
      expect((c1.characteristics as Set<string>).clear).toBeUndefined();
      // Not even through Set.prototype, which works on any real Set.
      try {
        Set.prototype.add.call(c1.characteristics, 'SERIALIZABLE');
      } catch {
        // refused: fine
      }
      try {
        Set.prototype.clear.call(c1.characteristics);
      } catch {
        // refused: fine
      }
      expect([...c1.characteristics]).toEqual(before);
      expect([...c2.characteristics]).toEqual(before);
      expect(c1.characteristics.has('SERIALIZABLE' as never)).toBe(false);
      expect(before.length).toBeGreaterThan(0);
    });
  });
});
