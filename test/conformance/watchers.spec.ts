import { describe, expect, it } from 'vitest';
import {
  type CoordinationEvent,
  GroupNotCreatedError,
  LeaderElected,
  MemberJoinedGroup,
  MemberLeftGroup,
  OperationTimedOutError,
  WatchCallbackNotFoundError,
} from '../../lib/index.js';
import { drivers } from '../support/drivers.js';
import { eventSink, runWatchersUntilResult, sleep, uid, useCoordinators } from './harness.js';

describe.each(drivers)('watchers on $name', (driver) => {
  const coordinators = useCoordinators(driver);

  it('test_watch_group_join: a join is reported once; after unwatching, nothing is', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    const sink = eventSink<MemberJoinedGroup>();
    await c1.createGroup(g);
    await c1.watchJoinGroup(g, sink.callback);
    await c2.joinGroup(g);
    expect(await c1.getMembers(g)).toContain(c2.memberId);

    expect(await runWatchersUntilResult(c1)).toEqual([42]);
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toBeInstanceOf(MemberJoinedGroup);
    expect(sink.events[0]).toMatchObject({ groupId: g, memberId: c2.memberId });

    await c1.unwatchJoinGroup(g, sink.callback);
    sink.events.length = 0;
    await c2.leaveGroup(g);
    await c2.joinGroup(g);
    expect(await c1.runWatchers()).toEqual([]);
    expect(sink.events).toEqual([]);
  });

  it('test_watch_leave_group: a leave is reported once; after unwatching, nothing is', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    const sink = eventSink<MemberLeftGroup>();
    await c1.createGroup(g);
    const onJoin = () => undefined;
    await c1.watchJoinGroup(g, onJoin);
    await c1.watchLeaveGroup(g, sink.callback);

    await c2.joinGroup(g);
    // The join hook returns undefined; like tooz's [None], the result is still one value.
    expect(await runWatchersUntilResult(c1)).toEqual([undefined]);
    expect(sink.events).toEqual([]);

    await c2.leaveGroup(g);
    expect(await runWatchersUntilResult(c1)).toEqual([42]);
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toBeInstanceOf(MemberLeftGroup);
    expect(sink.events[0]).toMatchObject({ groupId: g, memberId: c2.memberId });

    await c1.unwatchLeaveGroup(g, sink.callback);
    sink.events.length = 0;
    await c2.joinGroup(g);
    await c2.leaveGroup(g);
    await c1.runWatchers();
    expect(sink.events).toEqual([]);
  });

  // Ours: tooz's `_destroy_group` has no public equivalent; the member leaves, then the group is deleted before the watcher runs.
  it('test_watch_join_group_disappear: a watched group that disappears reports its cached members as left, without an error', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    const sink = eventSink<CoordinationEvent>();
    await c1.createGroup(g);
    await c1.watchJoinGroup(g, sink.callback);
    await c1.watchLeaveGroup(g, sink.callback);
    await c2.joinGroup(g);
    expect(await runWatchersUntilResult(c1)).toEqual([42]);
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toBeInstanceOf(MemberJoinedGroup);

    sink.events.length = 0;
    await c2.leaveGroup(g);
    await c1.deleteGroup(g);
    expect(await runWatchersUntilResult(c1)).toEqual([42]);
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toBeInstanceOf(MemberLeftGroup);
    expect(sink.events[0]).toMatchObject({ groupId: g, memberId: c2.memberId });
    // The vanished group keeps counting as empty: no error, no more events.
    expect(await c1.runWatchers()).toEqual([]);
  });

  // Ours: `_hooks_join_group` is read through watcherCount('join', g).
  it('test_watch_join_group_non_existent: rejects with GroupNotCreatedError and registers nothing', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    const error = await c.watchJoinGroup(g, () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GroupNotCreatedError);
    expect(error).toMatchObject({ groupId: g });
    expect(c.watcherCount('join', g)).toBe(0);
  });

  it('test_watch_join_group_booted_out: a coordinator whose membership another removed drops the group at its next runWatchers', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    const sink = eventSink<CoordinationEvent>();
    await c1.createGroup(g);
    await c1.joinGroup(g);
    await c1.watchJoinGroup(g, sink.callback);
    await c1.watchLeaveGroup(g, sink.callback);
    await c2.joinGroup(g);
    await runWatchersUntilResult(c1);
    sink.events.length = 0;

    const c3 = await coordinators.start({ memberId: c1.memberId });
    await c3.leaveGroup(g);
    expect(c1.groups.has(g)).toBe(true);
    await c1.runWatchers();
    expect(c1.groups.has(g)).toBe(false);
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toBeInstanceOf(MemberLeftGroup);
    expect(sink.events[0]).toMatchObject({ groupId: g, memberId: c1.memberId });
  });

  it('test_watch_leave_group_non_existent: rejects with GroupNotCreatedError and registers nothing', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    const error = await c.watchLeaveGroup(g, () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GroupNotCreatedError);
    expect(c.watcherCount('leave', g)).toBe(0);
  });

  it('test_unwatch_join_group_callback_not_found: rejects with WatchCallbackNotFoundError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    const callback = () => undefined;
    let pending: Promise<void> | undefined;
    expect(() => (pending = c.unwatchJoinGroup(g, callback))).not.toThrow();
    const error = await pending!.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WatchCallbackNotFoundError);
    expect(error).toMatchObject({ groupId: g, callback });
  });

  // Ours: `_hooks_leave_group` is read through watcherCount('leave', g).
  it('test_unwatch_leave_group: watching adds one leave callback, unwatching removes it', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    const callback = () => undefined;
    expect(c.watcherCount('leave', g)).toBe(0);
    await c.watchLeaveGroup(g, callback);
    expect(c.watcherCount('leave', g)).toBe(1);
    await c.unwatchLeaveGroup(g, callback);
    expect(c.watcherCount('leave', g)).toBe(0);
  });

  it('test_unwatch_leave_group_callback_not_found: rejects with WatchCallbackNotFoundError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    await expect(c.unwatchLeaveGroup(g, () => undefined)).rejects.toBeInstanceOf(WatchCallbackNotFoundError);
  });

  // TestHook ported: tooz tests its private `Hooks` list; ours proves the same through runWatchers' return value.
  it('test_register_hook: runWatchers() returns [] with no hook, and [value] once a registered hook fires', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    expect(await c1.runWatchers()).toEqual([]);
    let fired = 0;
    await c1.watchJoinGroup(g, () => {
      fired++;
    });
    expect(await c1.runWatchers()).toEqual([]);
    expect(fired).toBe(0);
    await c2.joinGroup(g);
    expect(await runWatchersUntilResult(c1)).toEqual([undefined]);
    expect(fired).toBe(1);
  });

  // TestHook ported: tooz removes from its private `Hooks` list; ours unwatches and runWatchers returns [].
  it('test_unregister_hook: after unwatching, the hook no longer fires and runWatchers() returns []', async () => {
    const [c1, c2, c3] = await coordinators.startMany(3);
    const g = uid('group');
    await c1.createGroup(g);
    let fired = 0;
    const hook = () => {
      fired++;
    };
    await c1.watchJoinGroup(g, hook);
    await c2.joinGroup(g);
    expect(await runWatchersUntilResult(c1)).toEqual([undefined]);
    expect(fired).toBe(1);
    fired = 0;
    await c1.unwatchJoinGroup(g, hook);
    await c3.joinGroup(g);
    expect(await c1.runWatchers()).toEqual([]);
    expect(fired).toBe(0);
  });

  it('the members present when watching are the baseline: they never produce join events', async () => {
    const [c1, c2, c3] = await coordinators.startMany(3);
    const g = uid('group');
    await c1.joinGroupCreate(g);
    await c2.joinGroup(g);
    const sink = eventSink<MemberJoinedGroup>();
    await c1.watchJoinGroup(g, sink.callback);
    expect(await c1.runWatchers()).toEqual([]);
    await c3.joinGroup(g);
    expect(await runWatchersUntilResult(c1)).toEqual([42]);
    expect(sink.events.map((e) => e.memberId)).toEqual([c3.memberId]);
  });

  it('events$ carries MemberJoinedGroup, MemberLeftGroup and LeaderElected as they are delivered', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    const seen = coordinators.record(c1);
    await c1.createGroup(g);
    await c1.watchJoinGroup(g, () => undefined);
    await c1.watchLeaveGroup(g, () => undefined);
    await c1.watchElectedAsLeader(g, () => undefined);
    await c2.joinGroup(g);
    await runWatchersUntilResult(c1);
    await c2.leaveGroup(g);
    await runWatchersUntilResult(c1);

    const joined = seen.filter((e) => e instanceof MemberJoinedGroup);
    const left = seen.filter((e) => e instanceof MemberLeftGroup);
    const elected = seen.filter((e) => e instanceof LeaderElected);
    expect(joined).toEqual([new MemberJoinedGroup(g, c2.memberId)]);
    expect(left).toEqual([new MemberLeftGroup(g, c2.memberId)]);
    expect(elected).toEqual([new LeaderElected(g, c1.memberId)]);
  });

  it('runWatchers() returns every callback’s value, awaiting async callbacks', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    await c1.watchJoinGroup(g, () => 'sync');
    await c1.watchJoinGroup(g, async () => {
      await sleep(5);
      return 'async';
    });
    await c2.joinGroup(g);
    expect(await runWatchersUntilResult(c1)).toEqual(['sync', 'async']);
  });

  it('a callback that throws does not stop the others; the first error is rethrown after the run', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    const boom = new Error('boom');
    const calls: string[] = [];
    await c1.watchJoinGroup(g, () => {
      calls.push('first');
      throw boom;
    });
    await c1.watchJoinGroup(g, () => {
      calls.push('second');
      return 2;
    });
    await c1.watchJoinGroup(g, async () => {
      calls.push('third');
      await sleep(1);
      throw new Error('a later error');
    });
    await c1.watchElectedAsLeader(g, () => {
      calls.push('elected');
    });
    await c2.joinGroup(g);
    await expect(c1.runWatchers()).rejects.toBe(boom);
    expect(calls).toEqual(['first', 'second', 'third', 'elected']);
    expect(await c1.getLeader(g)).toBe(c1.memberId);
    // The cached member set was updated all the same: the join is not delivered again.
    calls.length = 0;
    expect(await c1.runWatchers()).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('runWatchers(timeoutMs) rejects with OperationTimedOutError when the run takes longer', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    await c1.watchJoinGroup(g, () => sleep(300));
    await c2.joinGroup(g);
    const error = await c1.runWatchers(50).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationTimedOutError);
  });
});
