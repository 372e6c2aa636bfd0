import type { StoredMember } from '../../core/coordinator-options.js';
import {
  GroupAlreadyExistError,
  GroupNotCreatedError,
  GroupNotEmptyError,
  MemberAlreadyExistError,
  MemberNotJoinedError,
} from '../../errors.js';
import type { PostgresStatements } from './postgres-statements.js';
import {
  createGroupStatement,
  deleteGroupStatement,
  electStatement,
  getGroupsStatement,
  getLeaderStatement,
  getMemberStatement,
  getMembersStatement,
  joinGroupStatement,
  letGoLeaderStatement,
  leaveGroupStatement,
  membersWithCapabilitiesStatement,
  standDownStatement,
  updateCapabilitiesStatement,
} from './sql/index.js';

const text = (value: bigint): string => value.toString();

// Groups, members and leadership in PostgreSQL tables, one statement per
// call (docs/postgresql.md): plain functions over the session's statements.
// `PostgresDriver` keeps the session: the connection and its advisory locks,
// the beat, notifications, locks. Nothing here remembers what it won: the
// core's session is the one record of this member's leaderships.

// ---- Groups and members ----------------------------------------------------------

export async function createGroup(db: PostgresStatements, groupId: string): Promise<void> {
  const client = db.connected();
  const result = await client.query(db.statement(createGroupStatement, [groupId]));
  if (result.rowCount === 0) throw new GroupAlreadyExistError(groupId);
}

export async function getGroups(db: PostgresStatements): Promise<string[]> {
  return (await db.query<{ group_id: string }>(getGroupsStatement, [])).map((row) => row.group_id);
}

export async function joinGroup(db: PostgresStatements, groupId: string, capabilities: Uint8Array): Promise<void> {
  const answer = await db.ask(joinGroupStatement, [
    groupId,
    db.memberId,
    text(db.sessionKey),
    Buffer.from(capabilities.buffer, capabilities.byteOffset, capabilities.byteLength),
  ]);
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  if (answer === 'already a member') throw new MemberAlreadyExistError(groupId, db.memberId);
}

export async function leaveGroup(db: PostgresStatements, groupId: string): Promise<void> {
  const answer = await db.ask(leaveGroupStatement, [groupId, db.memberId]);
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  if (answer === 'not a member') throw new MemberNotJoinedError(groupId, db.memberId);
}

export async function deleteGroup(db: PostgresStatements, groupId: string): Promise<void> {
  const key = db.keys.leader(groupId);
  const answer = await db.ask(deleteGroupStatement, [text(db.sessionKey), groupId, text(key)], { keys: [key] });
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  if (answer === 'not empty') throw new GroupNotEmptyError(groupId);
}

export async function getMembers(
  db: PostgresStatements,
  groupIds: readonly string[],
): Promise<Map<string, Set<string> | null>> {
  const rows = await db.query<{ group_id: string; found: boolean; members: string[] }>(getMembersStatement, [
    [...groupIds],
  ]);
  const found = new Map(rows.map((row) => [row.group_id, row.found ? new Set(row.members) : null]));
  return new Map(groupIds.map((groupId) => [groupId, found.get(groupId) ?? null]));
}

export async function getMembersWithCapabilities(
  db: PostgresStatements,
  groupId: string,
): Promise<Map<string, Uint8Array>> {
  const rows = await db.query<{ found: boolean; member_id: string | null; capabilities: Buffer | null }>(
    membersWithCapabilitiesStatement,
    [groupId],
  );
  if (!rows[0]?.found) throw new GroupNotCreatedError(groupId);
  const members = new Map<string, Uint8Array>();
  for (const row of rows) {
    if (row.member_id !== null) members.set(row.member_id, new Uint8Array(row.capabilities!));
  }
  return members;
}

export async function getMember(db: PostgresStatements, groupId: string, memberId: string): Promise<StoredMember> {
  const [row] = await db.query<{
    found: boolean;
    capabilities: Buffer | null;
    created_at: Date | null;
    updated_at: Date | null;
  }>(getMemberStatement, [groupId, memberId]);
  if (!row?.found) throw new GroupNotCreatedError(groupId);
  if (row.capabilities === null) throw new MemberNotJoinedError(groupId, memberId);
  return {
    capabilities: new Uint8Array(row.capabilities),
    createdAt: row.created_at!,
    updatedAt: row.updated_at!,
  };
}

export async function updateCapabilities(
  db: PostgresStatements,
  groupId: string,
  capabilities: Uint8Array,
): Promise<void> {
  const [row] = await db.query<{ found: boolean; updated: boolean }>(updateCapabilitiesStatement, [
    groupId,
    db.memberId,
    Buffer.from(capabilities.buffer, capabilities.byteOffset, capabilities.byteLength),
  ]);
  if (!row!.found) throw new GroupNotCreatedError(groupId);
  if (!row!.updated) throw new MemberNotJoinedError(groupId, db.memberId);
}

// ---- Leadership and watching -------------------------------------------------------

export async function getLeader(db: PostgresStatements, groupId: string): Promise<string | null> {
  const [row] = await db.query<{ found: boolean; leader: string | null }>(getLeaderStatement, [groupId]);
  if (!row!.found) throw new GroupNotCreatedError(groupId);
  return row!.leader;
}

export async function elect(db: PostgresStatements, groupIds: readonly string[]): Promise<Set<string>> {
  const keys = groupIds.map((groupId) => db.keys.leader(groupId));
  const [row] = await db.query<{ led: string[] }>(
    electStatement,
    [text(db.sessionKey), db.memberId, [...groupIds], keys.map(text)],
    { keys },
  );
  return new Set(row!.led);
}

export async function standDown(db: PostgresStatements, groupId: string): Promise<boolean> {
  const key = db.keys.leader(groupId);
  // Failed, it is not believed either: the repair gives it up.
  const answer = await db.ask(standDownStatement, [text(db.sessionKey), groupId, text(key)], {
    keys: [key],
    groups: [groupId],
  });
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  return answer === 'stood down';
}

/**
 * Another member deleted a watched group: the core ends our leadership of it
 * if we had one, and we let go of its leadership key unless we lead it again
 * (the statement checks, so no copy of who leads is kept here).
 */
export async function letGoDeletedLeadership(db: PostgresStatements, groupId: string): Promise<void> {
  db.events?.leadershipLost(groupId);
  const key = db.keys.leader(groupId);
  await db
    .query(letGoLeaderStatement, [text(db.sessionKey), groupId, text(key)], { keys: [key] })
    .catch(() => undefined); // the next election or beat lets go
}
