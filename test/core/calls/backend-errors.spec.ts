/**
 * A backend's errors become ours in one place: a lost connection is a
 * `CoordinatorConnectionError` naming the operation and the group or lock; a
 * programming error passes through unchanged (docs/semantics.md#calls-and-errors).
 */
import { describe, expect, it } from 'vitest';
import { type Coordinator, CoordinatorConnectionError, type Lock } from '../../../lib/index.js';
import { ConnectionDropped, type PortCall } from '../../support/faulty-backend.js';
import type { FailingCoordinator } from '../../support/failing-driver.js';
import { uid, useFailing } from '../../support/failing-coordinators.js';

interface Names {
  group: string;
  joined: string;
  lock: string;
  other: Coordinator;
}

interface Case {
  /** The public call, as the title says it. */
  title: string;
  /** The port call made to fail. */
  port: PortCall;
  /** How the message names the operation. */
  operation: RegExp;
  /** Which id the message must name. */
  about: 'group' | 'lock' | 'joined' | null;
  /** Done before the failure is planned; its result is handed to `run`. */
  setup?(c: FailingCoordinator, names: Names): Promise<Lock>;
  run(c: FailingCoordinator, names: Names, held?: Lock): Promise<unknown>;
}

/** A lock held by `c`, to release, beat or check. */
async function heldLock(c: FailingCoordinator, names: Names): Promise<Lock> {
  const lock = c.getLock(names.lock);
  expect(await lock.acquire()).toBe(true);
  return lock;
}

const cases: Case[] = [
  { title: 'getGroups()', port: 'getGroups', operation: /getGroups/, about: null, run: (c) => c.getGroups() },
  { title: 'ping()', port: 'ping', operation: /ping/, about: null, run: (c) => c.ping() },
  { title: 'heartbeat()', port: 'beat', operation: /heartbeat/, about: null, run: (c) => c.heartbeat() },
  {
    title: 'createGroup()',
    port: 'createGroup',
    operation: /createGroup/,
    about: 'group',
    run: (c, n) => c.createGroup(n.group),
  },
  {
    title: 'joinGroup()',
    port: 'joinGroup',
    operation: /joinGroup/,
    about: 'group',
    run: (c, n) => c.joinGroup(n.group),
  },
  {
    title: 'joinGroupCreate()',
    port: 'joinGroup',
    operation: /joinGroupCreate/,
    about: 'group',
    run: (c, n) => c.joinGroupCreate(n.group),
  },
  {
    title: 'leaveGroup()',
    port: 'leaveGroup',
    operation: /leaveGroup/,
    about: 'joined',
    run: (c, n) => c.leaveGroup(n.joined),
  },
  {
    title: 'deleteGroup()',
    port: 'deleteGroup',
    operation: /deleteGroup/,
    about: 'group',
    run: (c, n) => c.deleteGroup(n.group),
  },
  {
    title: 'getMembers()',
    port: 'getMembers',
    operation: /getMembers/,
    about: 'joined',
    run: (c, n) => c.getMembers(n.joined),
  },
  {
    title: 'getMemberCapabilities()',
    port: 'getMember',
    operation: /getMemberCapabilities/,
    about: 'joined',
    run: (c, n) => c.getMemberCapabilities(n.joined, c.memberId),
  },
  {
    title: 'getMemberInfo()',
    port: 'getMember',
    operation: /getMemberInfo/,
    about: 'joined',
    run: (c, n) => c.getMemberInfo(n.joined, c.memberId),
  },
  {
    title: 'getMembersWithCapabilities()',
    port: 'getMembersWithCapabilities',
    operation: /getMembersWithCapabilities/,
    about: 'joined',
    run: (c, n) => c.getMembersWithCapabilities(n.joined),
  },
  {
    title: 'updateCapabilities()',
    port: 'updateCapabilities',
    operation: /updateCapabilities/,
    about: 'joined',
    run: (c, n) => c.updateCapabilities(n.joined, { x: 1 }),
  },
  {
    title: 'getLeader()',
    port: 'getLeader',
    operation: /getLeader/,
    about: 'joined',
    run: (c, n) => c.getLeader(n.joined),
  },
  {
    title: 'standDownGroupLeader()',
    port: 'standDown',
    operation: /standDownGroupLeader/,
    about: 'joined',
    run: (c, n) => c.standDownGroupLeader(n.joined),
  },
  {
    title: 'watchJoinGroup()',
    port: 'getMembers',
    operation: /watchJoinGroup/,
    about: 'joined',
    run: (c, n) => c.watchJoinGroup(n.joined, () => undefined),
  },
  {
    title: 'watchElectedAsLeader()',
    port: 'getMembers',
    operation: /watchElectedAsLeader/,
    about: 'joined',
    run: (c, n) => c.watchElectedAsLeader(n.joined, () => undefined),
  },
  {
    title: 'lock.acquire({ blocking: false })',
    port: 'acquire',
    operation: /acquire/,
    about: 'lock',
    run: (c, n) => c.getLock(n.lock).acquire({ blocking: false }),
  },
  {
    title: 'lock.acquire() (blocking)',
    port: 'acquire',
    operation: /acquire/,
    about: 'lock',
    run: (c, n) => c.getLock(n.lock).acquire({ timeoutMs: 1_000 }),
  },
  {
    title: 'lock.release()',
    port: 'release',
    operation: /release/,
    about: 'lock',
    setup: heldLock,
    run: (_c, _n, lock) => lock!.release(),
  },
  {
    title: 'lock.heartbeat()',
    port: 'beat',
    operation: /heartbeat/,
    about: 'lock',
    setup: heldLock,
    run: (_c, _n, lock) => lock!.heartbeat(),
  },
  {
    title: 'lock.isStillOwner()',
    port: 'isHeld',
    operation: /isStillOwner|check/,
    about: 'lock',
    setup: heldLock,
    run: (_c, _n, lock) => lock!.isStillOwner(),
  },
  {
    title: 'lock.break()',
    port: 'breakLock',
    operation: /break/,
    about: 'lock',
    run: (c, n) => c.getLock(n.lock).break(),
  },
];

describe('Backend errors translated', () => {
  const failing = useFailing();

  async function setUp(): Promise<{ coordinator: FailingCoordinator; names: Names }> {
    const url = failing.url();
    const coordinator = await failing.start(url);
    const other = await failing.start(url);
    const names = { group: uid('g'), joined: uid('joined'), lock: uid('lock'), other };
    await coordinator.joinGroupCreate(names.joined);
    return { coordinator, names };
  }

  // Guards against a driver's raw network error reaching the caller (no
  // context, maybe a password in it), and against a translation that drops
  // which group or lock the failed call was about.
  it.each(cases)('a lost connection in $title is a CoordinatorConnectionError naming it', async (test) => {
    const { coordinator, names } = await setUp();
    const held = await test.setup?.(coordinator, names);
    const dropped = new ConnectionDropped('connection reset');
    coordinator.faults.fail(test.port, dropped);
    const error = await test.run(coordinator, names, held).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CoordinatorConnectionError);
    const message = (error as Error).message;
    expect(message).toMatch(test.operation);
    expect(message).toContain(coordinator.memberId);
    if (test.about === 'group') expect(message).toContain(names.group);
    if (test.about === 'joined') expect(message).toContain(names.joined);
    if (test.about === 'lock') expect(message).toContain(names.lock);
    expect((error as Error).cause).toBe(dropped);
  });

  // Guards against a translation that wraps everything: a bug in a driver
  // (or a test double) must surface as itself, not as a connection problem.
  it.each(cases)('a programming error in $title passes through unchanged', async (test) => {
    const { coordinator, names } = await setUp();
    const held = await test.setup?.(coordinator, names);
    const bug = new TypeError('driver bug');
    coordinator.faults.fail(test.port, bug);
    await expect(test.run(coordinator, names, held)).rejects.toBe(bug);
  });

  // Guards against the watcher run collecting backend failures past the
  // translation (they are gathered, not thrown, so the run goes on).
  it('a lost connection in runWatchers() is a CoordinatorConnectionError naming the operation', async () => {
    const { coordinator, names } = await setUp();
    await coordinator.watchJoinGroup(names.joined, () => undefined);
    coordinator.faults.fail('getMembers', new ConnectionDropped('connection reset'));
    const error = await coordinator.runWatchers().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoordinatorConnectionError);
    expect((error as Error).message).toMatch(/runWatchers/);
    expect((error as Error).message).toContain(coordinator.memberId);
  });

  it('a lost connection in runElectCoordinator() is a CoordinatorConnectionError naming the operation', async () => {
    const { coordinator, names } = await setUp();
    await coordinator.watchElectedAsLeader(names.joined, () => undefined);
    coordinator.faults.fail('elect', new ConnectionDropped('connection reset'));
    const error = await coordinator.runElectCoordinator().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoordinatorConnectionError);
    expect((error as Error).message).toMatch(/runElectCoordinator/);
    expect((error as Error).message).toContain(coordinator.memberId);
  });

  it('a lost connection in start() and stop() is a CoordinatorConnectionError naming the operation', async () => {
    const coordinator = failing.create(failing.url());
    coordinator.faults.fail('connect', new ConnectionDropped('connection refused'));
    const starting = await coordinator.start().catch((e: unknown) => e);
    expect(starting).toBeInstanceOf(CoordinatorConnectionError);
    expect((starting as Error).message).toMatch(/start/);
    expect((starting as Error).message).toContain(coordinator.memberId);
    expect(coordinator.isStarted).toBe(false);

    await coordinator.start();
    coordinator.faults.fail('disconnect', new ConnectionDropped('connection reset'));
    const stopping = await coordinator.stop().catch((e: unknown) => e);
    expect(stopping).toBeInstanceOf(CoordinatorConnectionError);
    expect((stopping as Error).message).toMatch(/stop/);
    expect(coordinator.isStarted).toBe(false);
  });
});
