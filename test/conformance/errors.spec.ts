import { describe, expect, it } from 'vitest';
import {
  Characteristic,
  type Coordinator,
  CoordinationError,
  CoordinatorConnectionError,
  DriverChosenPoorlyError,
  getCoordinator,
  GroupAlreadyExistError,
  GroupNotCreatedError,
  GroupNotEmptyError,
  LockAcquireFailedError,
  MemberAlreadyExistError,
  MemberNotJoinedError,
  NotImplementedError,
  OperationTimedOutError,
  SerializationError,
  UnknownNodeError,
  WatchCallbackNotFoundError,
} from '../../lib/index.js';
import { drivers } from '../support/drivers.js';
import { driverTraits, uid, useCoordinators } from './harness.js';

type Call = (c: Coordinator, g: string) => unknown;

const noop = () => undefined;

/** Every call with a bad argument: each must throw TypeError synchronously. */
const BAD_ARGUMENTS: [string, Call][] = [
  ['createGroup("")', (c) => c.createGroup('')],
  ['createGroup(42)', (c) => c.createGroup(42 as never)],
  ['joinGroup("")', (c) => c.joinGroup('')],
  ['joinGroup(null)', (c) => c.joinGroup(null as never)],
  ['joinGroupCreate("")', (c) => c.joinGroupCreate('')],
  ['leaveGroup("")', (c) => c.leaveGroup('')],
  ['deleteGroup("")', (c) => c.deleteGroup('')],
  ['getMembers("")', (c) => c.getMembers('')],
  ['getMemberCapabilities("", m)', (c) => c.getMemberCapabilities('', c.memberId)],
  ['getMemberCapabilities(g, "")', (c, g) => c.getMemberCapabilities(g, '')],
  ['getMembersWithCapabilities(undefined)', (c) => c.getMembersWithCapabilities(undefined as never)],
  ['getMemberInfo(g, {})', (c, g) => c.getMemberInfo(g, {} as never)],
  ['updateCapabilities("", caps)', (c) => c.updateCapabilities('', {})],
  ['getLeader("")', (c) => c.getLeader('')],
  ['standDownGroupLeader("")', (c) => c.standDownGroupLeader('')],
  ['watchJoinGroup("", cb)', (c) => c.watchJoinGroup('', noop)],
  ['watchJoinGroup(g, "not a function")', (c, g) => c.watchJoinGroup(g, 'not a function' as never)],
  ['watchLeaveGroup(g, null)', (c, g) => c.watchLeaveGroup(g, null as never)],
  ['watchElectedAsLeader(g, 42)', (c, g) => c.watchElectedAsLeader(g, 42 as never)],
  ['unwatchJoinGroup("", cb)', (c) => c.unwatchJoinGroup('', noop)],
  ['unwatchLeaveGroup(g, undefined)', (c, g) => c.unwatchLeaveGroup(g, undefined as never)],
  ['unwatchElectedAsLeader("", cb)', (c) => c.unwatchElectedAsLeader('', noop)],
  ['getLock("")', (c) => c.getLock('')],
  ['getLock(7)', (c) => c.getLock(7 as never)],
  ['joinPartitionedGroup("")', (c) => c.joinPartitionedGroup('')],
  ['lock.acquire({ timeoutMs: -1 })', (c) => c.getLock(uid('lock')).acquire({ timeoutMs: -1 })],
];

/** Every call that takes a group: on a missing group each rejects with GroupNotCreatedError naming it. */
const GROUP_CALLS: [string, Call][] = [
  ['joinGroup', (c, g) => c.joinGroup(g)],
  ['leaveGroup', (c, g) => c.leaveGroup(g)],
  ['deleteGroup', (c, g) => c.deleteGroup(g)],
  ['getMembers', (c, g) => c.getMembers(g)],
  ['getMemberCapabilities', (c, g) => c.getMemberCapabilities(g, c.memberId)],
  ['getMembersWithCapabilities', (c, g) => c.getMembersWithCapabilities(g)],
  ['getMemberInfo', (c, g) => c.getMemberInfo(g, c.memberId)],
  ['updateCapabilities', (c, g) => c.updateCapabilities(g, { x: 1 })],
  ['getLeader', (c, g) => c.getLeader(g)],
  ['standDownGroupLeader', (c, g) => c.standDownGroupLeader(g)],
  ['watchJoinGroup', (c, g) => c.watchJoinGroup(g, noop)],
  ['watchLeaveGroup', (c, g) => c.watchLeaveGroup(g, noop)],
  ['watchElectedAsLeader', (c, g) => c.watchElectedAsLeader(g, noop)],
];

/** Every backend call: on a coordinator that is not started each rejects (never throws) with CoordinationError. */
const BACKEND_CALLS: [string, Call][] = [
  ['createGroup', (c, g) => c.createGroup(g)],
  ['getGroups', (c) => c.getGroups()],
  ['joinGroup', (c, g) => c.joinGroup(g)],
  ['joinGroupCreate', (c, g) => c.joinGroupCreate(g)],
  ['leaveGroup', (c, g) => c.leaveGroup(g)],
  ['deleteGroup', (c, g) => c.deleteGroup(g)],
  ['getMembers', (c, g) => c.getMembers(g)],
  ['getMemberCapabilities', (c, g) => c.getMemberCapabilities(g, c.memberId)],
  ['getMembersWithCapabilities', (c, g) => c.getMembersWithCapabilities(g)],
  ['getMemberInfo', (c, g) => c.getMemberInfo(g, c.memberId)],
  ['updateCapabilities', (c, g) => c.updateCapabilities(g, { x: 1 })],
  ['getLeader', (c, g) => c.getLeader(g)],
  ['standDownGroupLeader', (c, g) => c.standDownGroupLeader(g)],
  ['watchJoinGroup', (c, g) => c.watchJoinGroup(g, noop)],
  ['watchLeaveGroup', (c, g) => c.watchLeaveGroup(g, noop)],
  ['watchElectedAsLeader', (c, g) => c.watchElectedAsLeader(g, noop)],
  ['runWatchers', (c) => c.runWatchers()],
  ['runElectCoordinator', (c) => c.runElectCoordinator()],
  ['heartbeat', (c) => c.heartbeat()],
  ['joinPartitionedGroup', (c, g) => c.joinPartitionedGroup(g)],
  ['lock.acquire', (c) => c.getLock(uid('lock')).acquire({ blocking: false })],
  ['lock.break', (c) => c.getLock(uid('lock')).break()],
];

/** Values msgpack cannot carry as tooz does, each under a key named so the message can point at it. */
const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;
const UNENCODABLE: [string, unknown][] = [
  ['a function', () => 1],
  ['a symbol', Symbol('s')],
  ['a bigint', 10n],
  ['a Date', new Date(0)],
  ['a Map', new Map([['a', 1]])],
  ['a cycle', cyclic],
];

/** What `call` throws synchronously (undefined if nothing); a promise it returns instead is left handled. */
function thrownSynchronously(call: () => unknown): unknown {
  try {
    const result = call();
    if (result instanceof Promise) result.catch(() => undefined);
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Call `call`, asserting it does not throw synchronously; returns what it returned. */
function callWithoutThrowing(call: () => unknown): Promise<unknown> {
  let result: unknown;
  expect(() => (result = call())).not.toThrow();
  return Promise.resolve(result);
}

describe.each(drivers)('errors on $name', (driver) => {
  const traits = driverTraits(driver);
  const coordinators = useCoordinators(driver);

  it('every error extends CoordinationError, which extends Error, and is named after its class', () => {
    const errors: Error[] = [
      new GroupNotCreatedError('g'),
      new GroupAlreadyExistError('g'),
      new MemberAlreadyExistError('g', 'm'),
      new MemberNotJoinedError('g', 'm'),
      new GroupNotEmptyError('g'),
      new WatchCallbackNotFoundError('g', noop),
      new OperationTimedOutError('op', 1),
      new LockAcquireFailedError('l'),
      new CoordinatorConnectionError('x'),
      new DriverChosenPoorlyError(['X'], 'd'),
      new NotImplementedError('x'),
      new UnknownNodeError('n'),
      new SerializationError('x', 'g', 'm'),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(CoordinationError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(error.constructor.name);
    }
    expect(new MemberNotJoinedError('g', 'm')).toMatchObject({ groupId: 'g', memberId: 'm' });
    expect(new UnknownNodeError('n')).toMatchObject({ node: 'n' });
  });

  it.each(BAD_ARGUMENTS)('a bad argument throws TypeError synchronously: %s', async (_label, call) => {
    const started = await coordinators.start();
    const unstarted = coordinators.create();
    const g = uid('group');
    await started.createGroup(g);
    expect(
      thrownSynchronously(() => call(started, g)),
      'thrown synchronously, not a rejection',
    ).toBeInstanceOf(TypeError);
    // Argument errors come before the started check.
    expect(
      thrownSynchronously(() => call(unstarted, g)),
      'thrown synchronously, not a rejection',
    ).toBeInstanceOf(TypeError);
  });

  it('getCoordinator: an empty or non-string member id throws TypeError', () => {
    expect(() => getCoordinator(driver.url, '')).toThrow(TypeError);
    expect(() => getCoordinator(driver.url, 12 as never)).toThrow(TypeError);
    expect(() => getCoordinator(driver.url, undefined as never)).toThrow(TypeError);
  });

  it('getCoordinator: an unknown scheme throws CoordinationError naming the registered schemes', () => {
    let error: unknown;
    try {
      getCoordinator(`nosuchscheme${uid('x').replace(/[^a-z0-9]/g, '')}://host/`, uid('member'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CoordinationError);
    const message = (error as Error).message;
    expect(message).toContain('memory');
    expect(message).toContain(traits.scheme);
  });

  it('getCoordinator: a required characteristic the driver lacks throws DriverChosenPoorlyError naming it', () => {
    const missing = Object.values(Characteristic).filter((c) => !traits.characteristics.has(c));
    expect(missing.length).toBeGreaterThan(0);
    let error: unknown;
    try {
      getCoordinator(driver.url, uid('member'), { characteristics: [...traits.characteristics, missing[0]!] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DriverChosenPoorlyError);
    expect(error).toBeInstanceOf(CoordinationError);
    expect((error as Error).message).toContain(missing[0]!);
    // What the driver has is accepted.
    expect(coordinators.create({ options: { characteristics: [...traits.characteristics] } }).isStarted).toBe(false);
  });

  it.each(GROUP_CALLS)(
    'a missing group is GroupNotCreatedError (winning over MemberNotJoinedError): %s',
    async (_label, call) => {
      const c = await coordinators.start();
      const g = uid('group');
      const error = await callWithoutThrowing(() => call(c, g)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GroupNotCreatedError);
      expect(error).toMatchObject({ groupId: g });
    },
  );

  it.each(BACKEND_CALLS)('on a stopped coordinator, %s rejects with CoordinationError', async (_label, call) => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.joinGroupCreate(g);
    await c.stop();
    const error = await callWithoutThrowing(() => call(c, g)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoordinationError);
    // A never-started coordinator behaves the same.
    const never = coordinators.create();
    const again = await callWithoutThrowing(() => call(never, g)).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(CoordinationError);
  });

  it.each(UNENCODABLE)(
    'joinGroup with %s in the capabilities rejects with SerializationError naming member, group and value; nothing is written',
    async (_label, value) => {
      const c = await coordinators.start();
      const g = uid('group');
      await c.createGroup(g);
      const error = await callWithoutThrowing(() => c.joinGroup(g, { fine: 1, badValueHere: value } as never)).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SerializationError);
      expect(error).toBeInstanceOf(CoordinationError);
      expect(error).toMatchObject({ groupId: g, memberId: c.memberId });
      const message = (error as Error).message;
      expect(message).toContain(c.memberId);
      expect(message).toContain(g);
      expect(message).toContain('badValueHere');
      expect(await c.getMembers(g)).toEqual(new Set());
      expect(c.groups.has(g)).toBe(false);
    },
  );

  it('joinGroupCreate with unencodable capabilities rejects (never throws) with SerializationError; neither group nor member is written', async () => {
    const c = await coordinators.start();
    for (const [label, value] of UNENCODABLE) {
      const g = uid('group');
      const error = await callWithoutThrowing(() =>
        c.joinGroupCreate(g, { nested: { badValueHere: value } } as never),
      ).catch((e: unknown) => e);
      expect(error, label).toBeInstanceOf(SerializationError);
      expect(error, label).toMatchObject({ groupId: g, memberId: c.memberId });
      expect((error as Error).message, label).toContain('badValueHere');
      expect(await c.getGroups(), label).not.toContain(g);
    }
  });

  it.each(UNENCODABLE)(
    'updateCapabilities with %s rejects with SerializationError and keeps the old capabilities',
    async (_label, value) => {
      const c = await coordinators.start();
      const g = uid('group');
      await c.joinGroupCreate(g, { version: 1 });
      const before = await c.getMemberInfo(g, c.memberId);
      const error = await callWithoutThrowing(() => c.updateCapabilities(g, [1, value] as never)).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SerializationError);
      expect(error).toMatchObject({ groupId: g, memberId: c.memberId });
      const after = await c.getMemberInfo(g, c.memberId);
      expect(after.capabilities).toEqual({ version: 1 });
      expect(after.updatedAt.getTime()).toBe(before.updatedAt.getTime());
    },
  );
});
