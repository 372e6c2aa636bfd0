import { describe, expect, it } from 'vitest';
import {
  type Capabilities,
  GroupNotCreatedError,
  MemberAlreadyExistError,
  MemberNotJoinedError,
} from '../../lib/index.js';
import { drivers } from '../support/drivers.js';
import { sleep, uid, useCoordinators } from './harness.js';

const WARRIOR = { type: 'warrior', abilities: ['fight', 'flight', 'double-hit-damage'] };

describe.each(drivers)('capabilities on $name', (driver) => {
  const coordinators = useCoordinators(driver);

  /** A started coordinator joined to a fresh group with `caps`. */
  async function joined(caps?: Capabilities) {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    await c.joinGroup(g, caps);
    return { c, g };
  }

  // Ours: the join is awaited; tooz relies on un-awaited calls running in order, which the contract does not promise.
  it('test_get_member_capabilities: capabilities given at join are read back', async () => {
    const caps = { data: 'test_capabilities' };
    const { c, g } = await joined(caps);
    expect(await c.getMemberCapabilities(g, c.memberId)).toEqual(caps);
  });

  it('test_get_member_capabilities_complex: nested capabilities round-trip', async () => {
    const { c, g } = await joined(WARRIOR);
    const capa = await c.getMemberCapabilities(g, c.memberId);
    expect(capa).toEqual(WARRIOR);
    expect((capa as typeof WARRIOR).type).toBe(WARRIOR.type);
  });

  it('test_get_members_with_capabilities: maps the member to exactly its capabilities', async () => {
    const caps = { host: '10.0.0.1', port: 8080 };
    const { c, g } = await joined(caps);
    const result = await c.getMembersWithCapabilities(g);
    expect(result).toBeInstanceOf(Map);
    expect(result).toEqual(new Map([[c.memberId, caps]]));
  });

  it('test_get_members_with_capabilities_multiple: each member maps to its own capabilities', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    await c1.joinGroup(g, { role: 'primary' });
    await c2.joinGroup(g, { role: 'secondary' });
    const result = await c1.getMembersWithCapabilities(g);
    expect(result.size).toBe(2);
    expect(result.get(c1.memberId)).toEqual({ role: 'primary' });
    expect(result.get(c2.memberId)).toEqual({ role: 'secondary' });
  });

  it('test_get_members_with_capabilities_nonexistent_group: rejects with GroupNotCreatedError', async () => {
    const c = await coordinators.start();
    await expect(c.getMembersWithCapabilities(uid('group'))).rejects.toBeInstanceOf(GroupNotCreatedError);
  });

  it('test_get_members_with_capabilities_empty_group: an empty map', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    expect(await c.getMembersWithCapabilities(g)).toEqual(new Map());
  });

  // Ours: "none" reads back as exactly {} (tooz accepts None or {}).
  it('test_get_members_with_capabilities_no_caps: a member joined without capabilities maps to {}', async () => {
    const { c, g } = await joined();
    const result = await c.getMembersWithCapabilities(g);
    expect(result.get(c.memberId)).toEqual({});
  });

  // Ours: exactly GroupNotCreatedError, which wins over MemberNotJoinedError.
  it('test_get_member_capabilities_nonexistent_group: rejects with GroupNotCreatedError', async () => {
    const c = await coordinators.start();
    await expect(c.getMemberCapabilities(uid('group'), c.memberId)).rejects.toBeInstanceOf(GroupNotCreatedError);
  });

  it('test_get_member_capabilities_nonjoined_member: rejects with MemberNotJoinedError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    const error = await c.getMemberCapabilities(g, c.memberId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemberNotJoinedError);
    expect(error).toMatchObject({ groupId: g, memberId: c.memberId });
  });

  it('test_get_member_info: the info holds the capabilities', async () => {
    const caps = { data: 'test_capabilities' };
    const { c, g } = await joined(caps);
    const info = await c.getMemberInfo(g, c.memberId);
    expect(info.capabilities).toEqual(caps);
  });

  it('test_get_member_info_complex: the info holds nested capabilities and both times as Dates', async () => {
    const { c, g } = await joined(WARRIOR);
    const info = await c.getMemberInfo(g, c.memberId);
    expect(info.capabilities).toEqual(WARRIOR);
    expect(info.createdAt).toBeInstanceOf(Date);
    expect(info.updatedAt).toBeInstanceOf(Date);
  });

  // Ours: exactly GroupNotCreatedError, which wins over MemberNotJoinedError.
  it('test_get_member_info_nonexistent_group: rejects with GroupNotCreatedError', async () => {
    const c = await coordinators.start();
    await expect(c.getMemberInfo(uid('group'), c.memberId)).rejects.toBeInstanceOf(GroupNotCreatedError);
  });

  it('test_get_member_info_nonjoined_member: rejects with MemberNotJoinedError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    const other = uid('member');
    const error = await c.getMemberInfo(g, other).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemberNotJoinedError);
    expect(error).toMatchObject({ groupId: g, memberId: other });
  });

  it('test_update_capabilities: updated capabilities are read back', async () => {
    const { c, g } = await joined({ version: 1 });
    expect(await c.getMemberCapabilities(g, c.memberId)).toEqual({ version: 1 });
    await c.updateCapabilities(g, { version: 2 });
    expect(await c.getMemberCapabilities(g, c.memberId)).toEqual({ version: 2 });
  });

  // Ours: exactly GroupNotCreatedError, which wins over MemberNotJoinedError.
  it('test_update_capabilities_with_group_id_nonexistent: rejects with GroupNotCreatedError', async () => {
    const c = await coordinators.start();
    await expect(c.updateCapabilities(uid('group'), { version: 2 })).rejects.toBeInstanceOf(GroupNotCreatedError);
  });

  it('updateCapabilities of a group not joined rejects with MemberNotJoinedError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    await expect(c.updateCapabilities(g, { version: 2 })).rejects.toBeInstanceOf(MemberNotJoinedError);
  });

  it('getMemberInfo: createdAt is the join time and equals updatedAt at join', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    const before = Date.now();
    await c.joinGroup(g, { v: 1 });
    const after = Date.now();
    const info = await c.getMemberInfo(g, c.memberId);
    // A backend may stamp with its own clock; allow a little skew.
    expect(info.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(info.createdAt.getTime()).toBeLessThanOrEqual(after + 1000);
    expect(info.updatedAt.getTime()).toBe(info.createdAt.getTime());
  });

  it('getMemberInfo: updateCapabilities moves updatedAt, not createdAt', async () => {
    const { c, g } = await joined({ v: 1 });
    const first = await c.getMemberInfo(g, c.memberId);
    await sleep(25);
    await c.updateCapabilities(g, { v: 2 });
    const second = await c.getMemberInfo(g, c.memberId);
    expect(second.capabilities).toEqual({ v: 2 });
    expect(second.createdAt.getTime()).toBe(first.createdAt.getTime());
    expect(second.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());
    // Read by another coordinator, the same times.
    const c2 = await coordinators.start();
    const seen = await c2.getMemberInfo(g, c.memberId);
    expect(seen.createdAt.getTime()).toBe(second.createdAt.getTime());
    expect(seen.updatedAt.getTime()).toBe(second.updatedAt.getTime());
  });

  it('capabilities: strings, numbers, booleans, arrays, nested null and Uint8Array survive; undefined keys are dropped', async () => {
    const caps = {
      s: 'text',
      n: 42,
      f: 1.5,
      neg: -7,
      t: true,
      no: false,
      list: [1, 'two', [3], { four: 4 }],
      nested: { inner: null, deep: { x: 'y' } },
      bytes: new Uint8Array([0, 1, 2, 254, 255]),
      gone: undefined,
    };
    const { c, g } = await joined(caps);
    const read = (await c.getMemberCapabilities(g, c.memberId)) as Record<string, unknown>;
    const { gone: _gone, bytes, ...rest } = caps;
    const { bytes: readBytes, ...readRest } = read;
    expect(readRest).toStrictEqual(rest);
    expect('gone' in read).toBe(false);
    expect(readBytes).toBeInstanceOf(Uint8Array);
    expect([...(readBytes as Uint8Array)]).toEqual([...bytes]);
  });

  it('capabilities: top-level null and undefined read back as {}; a non-object value reads back as itself', async () => {
    const [c1, c2, c3] = await coordinators.startMany(3);
    const g = uid('group');
    await c1.createGroup(g);
    await c1.joinGroup(g, null);
    await c2.joinGroup(g, undefined);
    await c3.joinGroup(g, 'just-a-string');
    expect(await c1.getMemberCapabilities(g, c1.memberId)).toEqual({});
    expect(await c1.getMemberCapabilities(g, c2.memberId)).toEqual({});
    expect(await c1.getMemberCapabilities(g, c3.memberId)).toBe('just-a-string');
  });

  it('joinGroup of a member already in the group does not overwrite its capabilities', async () => {
    const c1 = await coordinators.start();
    const c2 = await coordinators.start({ memberId: c1.memberId });
    const g = uid('group');
    await c1.joinGroupCreate(g, { owner: 'first' });
    await expect(c2.joinGroup(g, { owner: 'second' })).rejects.toBeInstanceOf(MemberAlreadyExistError);
    expect(await c1.getMemberCapabilities(g, c1.memberId)).toEqual({ owner: 'first' });
  });

  it("capabilities written by one coordinator are read by another, and another member's are readable", async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.joinGroupCreate(g, { who: 'c1' });
    expect(await c2.getMemberCapabilities(g, c1.memberId)).toEqual({ who: 'c1' });
    await c1.updateCapabilities(g, { who: 'c1', v: 2 });
    expect(await c2.getMemberCapabilities(g, c1.memberId)).toEqual({ who: 'c1', v: 2 });
    expect((await c2.getMemberInfo(g, c1.memberId)).capabilities).toEqual({ who: 'c1', v: 2 });
  });
});
