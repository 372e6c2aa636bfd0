import { describe, expect, it, vi } from 'vitest';
import { GroupNotCreatedError, LeaderElected, LeadershipLost, WatchCallbackNotFoundError } from '../../lib/index.js';
import { drivers } from '../support/drivers.js';
import { eventSink, nextEvent, uid, useCoordinators } from './harness.js';

describe.each(drivers)('leadership on $name', (driver) => {
  const coordinators = useCoordinators(driver);

  // Ours: runWatchers() also returns the LeaderElected callbacks' values (tooz drops them).
  it('test_run_for_election: a candidate that has not joined is elected by one runWatchers()', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    const sink = eventSink<LeaderElected>();
    await c.createGroup(g);
    await c.watchElectedAsLeader(g, sink.callback);
    expect(await c.runWatchers()).toEqual([42]);
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toBeInstanceOf(LeaderElected);
    expect(sink.events[0]).toMatchObject({ groupId: g, memberId: c.memberId });
    expect(await c.getLeader(g)).toBe(c.memberId);
  });

  it('test_run_for_election_multiple_clients: one leader at a time; when it stops, the other is elected', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    const sink = eventSink<LeaderElected>();
    await c1.createGroup(g);
    await c1.watchElectedAsLeader(g, sink.callback);
    await c1.runWatchers();
    await c2.watchElectedAsLeader(g, sink.callback);
    await c2.runWatchers();
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ groupId: g, memberId: c1.memberId });
    expect(await c1.getLeader(g)).toBe(c1.memberId);

    sink.events.length = 0;
    await c1.stop();
    await c2.runWatchers();
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ groupId: g, memberId: c2.memberId });
    expect(await c2.getLeader(g)).toBe(c2.memberId);
  });

  it('test_get_leader: null with no candidate, still null after joining, the candidate once elected', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    expect(await c.getLeader(g)).toBeNull();
    await c.joinGroup(g);
    expect(await c.getLeader(g)).toBeNull();
    await c.watchElectedAsLeader(g, () => undefined);
    // Watching alone does not elect; the election happens in runWatchers().
    expect(await c.getLeader(g)).toBeNull();
    await c.runWatchers();
    expect(await c.getLeader(g)).toBe(c.memberId);
  });

  it('test_run_for_election_multiple_clients_stand_down: leadership passes back and forth on stand-down', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    const sink = eventSink<LeaderElected>();
    await c1.createGroup(g);
    await c1.watchElectedAsLeader(g, sink.callback);
    await c1.runWatchers();
    await c2.watchElectedAsLeader(g, sink.callback);
    await c2.runWatchers();
    expect(sink.events.map((e) => e.memberId)).toEqual([c1.memberId]);
    sink.events.length = 0;

    expect(await c1.standDownGroupLeader(g)).toBe(true);
    await c2.runWatchers();
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ groupId: g, memberId: c2.memberId });
    sink.events.length = 0;

    expect(await c2.standDownGroupLeader(g)).toBe(true);
    await c1.runWatchers();
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ groupId: g, memberId: c1.memberId });
  });

  // Ours: `_hooks_elected_leader` is read through watcherCount('elected', g).
  it('test_unwatch_elected_as_leader: watching adds one elected callback, unwatching removes it', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    const callback = () => undefined;
    await c.watchElectedAsLeader(g, callback);
    expect(c.watcherCount('elected', g)).toBe(1);
    await c.unwatchElectedAsLeader(g, callback);
    expect(c.watcherCount('elected', g)).toBe(0);
  });

  it('test_unwatch_elected_as_leader_callback_not_found: rejects with WatchCallbackNotFoundError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    await expect(c.unwatchElectedAsLeader(g, () => undefined)).rejects.toBeInstanceOf(WatchCallbackNotFoundError);
  });

  it('watchElectedAsLeader on a missing group rejects with GroupNotCreatedError and registers nothing', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await expect(c.watchElectedAsLeader(g, () => undefined)).rejects.toBeInstanceOf(GroupNotCreatedError);
    expect(c.watcherCount('elected', g)).toBe(0);
    expect(await c.runWatchers()).toEqual([]);
  });

  it('getLeader: GroupNotCreatedError for a missing group; null after the leader stands down or stops', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    await expect(c1.getLeader(uid('group'))).rejects.toBeInstanceOf(GroupNotCreatedError);
    const g = uid('group');
    await c1.createGroup(g);
    await c1.watchElectedAsLeader(g, () => undefined);
    await c1.runWatchers();
    expect(await c2.getLeader(g)).toBe(c1.memberId);
    await c1.standDownGroupLeader(g);
    expect(await c2.getLeader(g)).toBeNull();
    await c1.runWatchers();
    expect(await c2.getLeader(g)).toBe(c1.memberId);
    await c1.stop();
    expect(await c2.getLeader(g)).toBeNull();
  });

  it('standDownGroupLeader: false when not leading; GroupNotCreatedError for a missing group', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    expect(await c1.standDownGroupLeader(g)).toBe(false);
    await c1.watchElectedAsLeader(g, () => undefined);
    await c1.runWatchers();
    // Another member standing down does not take the leader's place away.
    expect(await c2.standDownGroupLeader(g)).toBe(false);
    expect(await c2.getLeader(g)).toBe(c1.memberId);
    await expect(c1.standDownGroupLeader(uid('group'))).rejects.toBeInstanceOf(GroupNotCreatedError);
  });

  it('LeadershipLost on events$ when the leader stands down', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    await c.watchElectedAsLeader(g, () => undefined);
    const elected = nextEvent(c, LeaderElected, (e) => e.groupId === g);
    await c.runWatchers();
    expect(await elected).toEqual(new LeaderElected(g, c.memberId));
    const lost = nextEvent(c, LeadershipLost, (e) => e.groupId === g);
    await c.standDownGroupLeader(g);
    const event = await lost;
    expect(event).toBeInstanceOf(LeadershipLost);
    expect(event).toMatchObject({ groupId: g, memberId: c.memberId });
  });

  it('LeadershipLost on events$ when the leader stops, and the other candidate wins its next election step', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    await c1.watchElectedAsLeader(g, () => undefined);
    await c2.watchElectedAsLeader(g, () => undefined);
    await c1.runElectCoordinator();
    await c2.runElectCoordinator();
    expect(await c2.getLeader(g)).toBe(c1.memberId);
    const lost = nextEvent(c1, LeadershipLost, (e) => e.groupId === g);
    await c1.stop();
    expect(await lost).toMatchObject({ groupId: g, memberId: c1.memberId });
    const elected = nextEvent(c2, LeaderElected, (e) => e.groupId === g);
    await c2.runElectCoordinator();
    expect(await elected).toMatchObject({ groupId: g, memberId: c2.memberId });
    expect(await c2.getLeader(g)).toBe(c2.memberId);
  });

  it('runElectCoordinator() alone elects, without delivering member events', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    const joins = eventSink();
    await c1.watchJoinGroup(g, joins.callback);
    await c1.watchElectedAsLeader(g, () => 'elected');
    await c2.joinGroup(g);
    expect(await c1.runElectCoordinator()).toEqual(['elected']);
    expect(joins.events).toEqual([]);
    expect(await c1.getLeader(g)).toBe(c1.memberId);
  });

  it('unwatching the last elected callback withdraws the candidacy: no election follows', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    const callback = vi.fn();
    await c.watchElectedAsLeader(g, callback);
    await c.unwatchElectedAsLeader(g, callback);
    expect(await c.runWatchers()).toEqual([]);
    expect(await c.runElectCoordinator()).toEqual([]);
    expect(await c.getLeader(g)).toBeNull();
    expect(callback).not.toHaveBeenCalled();
  });

  it('leadership survives leaveGroup() and unwatchElectedAsLeader(), as in tooz', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.joinGroupCreate(g);
    const callback = () => undefined;
    await c1.watchElectedAsLeader(g, callback);
    await c1.runWatchers();
    await c1.leaveGroup(g);
    expect(await c2.getLeader(g)).toBe(c1.memberId);
    await c1.unwatchElectedAsLeader(g, callback);
    expect(await c2.getLeader(g)).toBe(c1.memberId);
    await c2.watchElectedAsLeader(g, () => undefined);
    await c2.runWatchers();
    expect(await c2.getLeader(g)).toBe(c1.memberId);
    expect(await c1.standDownGroupLeader(g)).toBe(true);
    await c2.runWatchers();
    expect(await c2.getLeader(g)).toBe(c2.memberId);
  });

  it('deleteGroup() ends leadership at once: the re-created group has no leader and another candidate wins', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    await c1.watchElectedAsLeader(g, () => undefined);
    await c1.runWatchers();
    expect(await c1.getLeader(g)).toBe(c1.memberId);
    const seen = coordinators.record(c1);
    await c1.deleteGroup(g);
    // The leader that deleted the group knows at once: by the time deleteGroup() resolves.
    expect(c1.isLeaderOf(g)).toBe(false);
    expect(seen.filter((e) => e instanceof LeadershipLost)).toEqual([new LeadershipLost(g, c1.memberId)]);
    await c2.createGroup(g);
    expect(await c2.getLeader(g)).toBeNull();
    await c2.watchElectedAsLeader(g, () => undefined);
    await c2.runWatchers();
    expect(await c1.getLeader(g)).toBe(c2.memberId);
    expect(await c1.runWatchers()).toEqual([]);
  });

  it('a re-elected member gets LeaderElected again each time it becomes leader', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    const sink = eventSink<LeaderElected>();
    await c.watchElectedAsLeader(g, sink.callback);
    await c.runWatchers();
    // Still leading: no new election event.
    expect(await c.runWatchers()).toEqual([]);
    await c.standDownGroupLeader(g);
    expect(await c.runWatchers()).toEqual([42]);
    expect(sink.events.map((e) => e.memberId)).toEqual([c.memberId, c.memberId]);
  });
});
