import { describe, expect, it } from 'vitest';
import {
  GroupAlreadyExistError,
  GroupNotCreatedError,
  GroupNotEmptyError,
  MemberAlreadyExistError,
  MemberNotJoinedError,
} from '../../lib/index.js';
import { drivers } from '../support/drivers.js';
import { now, since, uid, useCoordinators } from './harness.js';

describe.each(drivers)('groups on $name', (driver) => {
  const coordinators = useCoordinators(driver);

  it('test_create_group: a created group is listed by getGroups()', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    expect(await c.getGroups()).toContain(g);
  });

  it('test_create_group_already_exist: a second createGroup rejects with GroupAlreadyExistError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    const error = await c.createGroup(g).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GroupAlreadyExistError);
    expect(error).toMatchObject({ groupId: g });
  });

  it('test_get_groups: every one of five created groups is listed', async () => {
    const c = await coordinators.start();
    const groups = Array.from({ length: 5 }, () => uid('group'));
    for (const g of groups) await c.createGroup(g);
    const listed = await c.getGroups();
    for (const g of groups) expect(listed).toContain(g);
  });

  // Ours: ids are always strings; a non-ASCII string id reads back as the same string (tooz: bytes on some drivers).
  it('test_get_groups_str_group_id: a string group id is listed as the same string', async () => {
    const c = await coordinators.start();
    const g = `str-${uid('group')}-чупакабра`;
    await c.createGroup(g);
    const listed = await c.getGroups();
    expect(listed).toContain(g);
    expect(listed.every((id) => typeof id === 'string')).toBe(true);
  });

  it('test_delete_group: a deleted group is no longer listed, and joining it rejects with GroupNotCreatedError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    expect(await c.getGroups()).toContain(g);
    await c.deleteGroup(g);
    expect(await c.getGroups()).not.toContain(g);
    await expect(c.joinGroup(g)).rejects.toBeInstanceOf(GroupNotCreatedError);
  });

  it('test_delete_group_non_existent: deleteGroup of a missing group rejects with GroupNotCreatedError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    const error = await c.deleteGroup(g).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GroupNotCreatedError);
    expect(error).toMatchObject({ groupId: g });
  });

  it('test_delete_group_non_empty: deleteGroup rejects with GroupNotEmptyError until the member leaves', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    await c.joinGroup(g);
    const error = await c.deleteGroup(g).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GroupNotEmptyError);
    expect(error).toMatchObject({ groupId: g });
    await c.leaveGroup(g);
    await c.deleteGroup(g);
    expect(await c.getGroups()).not.toContain(g);
  });

  it('test_join_group: a joined member is listed by getMembers()', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    await c.joinGroup(g);
    expect(await c.getMembers(g)).toContain(c.memberId);
  });

  it('test_join_nonexistent_group: joinGroup of a missing group rejects with GroupNotCreatedError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    const error = await c.joinGroup(g).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GroupNotCreatedError);
    expect(error).toMatchObject({ groupId: g });
  });

  it('test_join_group_create: joinGroupCreate on a missing group creates it and joins (quickly; tooz sleeps 1 s)', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    const started = now();
    await c.joinGroupCreate(g);
    expect(since(started)).toBeLessThan(1000);
    expect(await c.getGroups()).toContain(g);
    expect(await c.getMembers(g)).toEqual(new Set([c.memberId]));
  });

  it('test_join_group_with_member_id_already_exists: a second coordinator with the same member id gets MemberAlreadyExistError', async () => {
    const c1 = await coordinators.start();
    const c2 = await coordinators.start({ memberId: c1.memberId });
    const g = uid('group');
    await c1.createGroup(g);
    await c1.joinGroup(g);
    const error = await c2.joinGroup(g).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemberAlreadyExistError);
    expect(error).toMatchObject({ groupId: g, memberId: c1.memberId });
    expect(await c1.getMembers(g)).toEqual(new Set([c1.memberId]));
  });

  it('test_leave_group: a member that leaves is no longer listed', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    expect(await c.getGroups()).toContain(g);
    await c.joinGroup(g);
    expect(await c.getMembers(g)).toContain(c.memberId);
    await c.leaveGroup(g);
    expect(await c.getMembers(g)).not.toContain(c.memberId);
  });

  // Ours: exactly GroupNotCreatedError (tooz accepts MemberNotJoined or GroupNotCreated).
  it('test_leave_nonexistent_group: leaveGroup of a missing group rejects with GroupNotCreatedError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    expect(await c.getGroups()).not.toContain(g);
    const error = await c.leaveGroup(g).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GroupNotCreatedError);
    expect(error).toMatchObject({ groupId: g });
  });

  it('test_leave_group_not_joined_by_member: leaveGroup of a group not joined rejects with MemberNotJoinedError', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await c.createGroup(g);
    const error = await c.leaveGroup(g).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemberNotJoinedError);
    expect(error).toMatchObject({ groupId: g, memberId: c.memberId });
  });

  it('test_get_members: two joined coordinators are exactly the members', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    await c1.joinGroup(g);
    await c2.joinGroup(g);
    expect(await c1.getMembers(g)).toEqual(new Set([c1.memberId, c2.memberId]));
    expect(await c2.getMembers(g)).toEqual(new Set([c1.memberId, c2.memberId]));
  });

  // Ours: ids are always strings; a non-ASCII member id reads back as the same string (tooz: bytes on some drivers).
  it('test_get_members_str_member_id: a string member id is listed as the same string', async () => {
    const c1 = await coordinators.start();
    const c2 = await coordinators.start({ memberId: `str-${uid('member')}-чупакабра` });
    const g = uid('group');
    await c1.createGroup(g);
    await c2.joinGroup(g);
    const members = await c1.getMembers(g);
    expect(members).toEqual(new Set([c2.memberId]));
  });

  it('test_disconnect_leave_group: a stopped coordinator is no longer a member', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    await c1.joinGroup(g);
    await c2.joinGroup(g);
    expect(await c1.getMembers(g)).toEqual(new Set([c1.memberId, c2.memberId]));
    await c2.stop();
    const members = await c1.getMembers(g);
    expect(members).toContain(c1.memberId);
    expect(members).not.toContain(c2.memberId);
  });

  it('joinGroupCreate racing from several coordinators at once: all succeed and all are members', async () => {
    const many = await coordinators.startMany(6);
    const g = uid('group');
    await Promise.all(many.map((c) => c.joinGroupCreate(g)));
    expect(await many[0]!.getMembers(g)).toEqual(new Set(many.map((c) => c.memberId)));
    expect((await many[0]!.getGroups()).filter((id) => id === g)).toHaveLength(1);
  });

  it('joinGroupCreate on an existing group joins it; on a group already joined rejects with MemberAlreadyExistError', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.createGroup(g);
    await c2.joinGroupCreate(g);
    expect(await c1.getMembers(g)).toEqual(new Set([c2.memberId]));
    await expect(c2.joinGroupCreate(g)).rejects.toBeInstanceOf(MemberAlreadyExistError);
  });

  it('membership belongs to the member id: a second coordinator with the same id leaves the first one’s membership', async () => {
    const c1 = await coordinators.start();
    const c2 = await coordinators.start({ memberId: c1.memberId });
    const g = uid('group');
    await c1.joinGroupCreate(g);
    await c2.leaveGroup(g);
    expect(await c1.getMembers(g)).toEqual(new Set());
    await expect(c1.leaveGroup(g)).rejects.toBeInstanceOf(MemberNotJoinedError);
  });

  it('getMembers of a missing group rejects with GroupNotCreatedError; of an empty group is an empty set', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    await expect(c.getMembers(g)).rejects.toBeInstanceOf(GroupNotCreatedError);
    await c.createGroup(g);
    expect(await c.getMembers(g)).toEqual(new Set());
  });

  it('a deleted group can be created again, empty', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    await c1.joinGroupCreate(g);
    await c1.leaveGroup(g);
    await c1.deleteGroup(g);
    await c2.createGroup(g);
    expect(await c1.getMembers(g)).toEqual(new Set());
  });
});
