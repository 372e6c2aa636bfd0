import type { StoredMember } from '../../core/coordinator-options.js';
import {
  GroupAlreadyExistError,
  GroupNotCreatedError,
  GroupNotEmptyError,
  MemberAlreadyExistError,
  MemberNotJoinedError,
} from '../../errors.js';
import { PostgresStatements } from './postgres-statements.js';
import {
  createGroupStatement,
  deleteGroupStatement,
  electStatement,
  getGroupsStatement,
  getLeaderStatement,
  getMemberStatement,
  getMembersStatement,
  joinGroupStatement,
  leaveGroupStatement,
  membersWithCapabilitiesStatement,
  standDownStatement,
  updateCapabilitiesStatement,
} from './sql/index.js';

const text = (value: bigint): string => value.toString();

/**
 * Groups, members and leadership in PostgreSQL tables, one statement per
 * call (docs/postgresql.md). `PostgresDriver` adds the session: the
 * connection and its advisory locks, the beat, notifications, locks.
 */
export abstract class PostgresGroupOperations extends PostgresStatements {
  // ---- Groups and members ----------------------------------------------------------

  async createGroup(groupId: string): Promise<void> {
    const client = this.connected();
    const result = await client.query(this.statement(createGroupStatement, [groupId]));
    if (result.rowCount === 0) throw new GroupAlreadyExistError(groupId);
  }

  async getGroups(): Promise<string[]> {
    return (await this.query<{ group_id: string }>(getGroupsStatement, [])).map((row) => row.group_id);
  }

  async joinGroup(groupId: string, capabilities: Uint8Array): Promise<void> {
    const answer = await this.ask(joinGroupStatement, [
      groupId,
      this.memberId,
      text(this.sessionKey),
      Buffer.from(capabilities.buffer, capabilities.byteOffset, capabilities.byteLength),
    ]);
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    if (answer === 'already a member') throw new MemberAlreadyExistError(groupId, this.memberId);
  }

  async leaveGroup(groupId: string): Promise<void> {
    const answer = await this.ask(leaveGroupStatement, [groupId, this.memberId]);
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    if (answer === 'not a member') throw new MemberNotJoinedError(groupId, this.memberId);
  }

  async deleteGroup(groupId: string): Promise<void> {
    const key = this.keys.leader(groupId);
    const answer = await this.ask(deleteGroupStatement, [text(this.sessionKey), groupId, text(key)], { keys: [key] });
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    if (answer === 'not empty') throw new GroupNotEmptyError(groupId);
    this.leading.delete(groupId);
  }

  async getMembers(groupIds: readonly string[]): Promise<Map<string, Set<string> | null>> {
    const rows = await this.query<{ group_id: string; found: boolean; members: string[] }>(getMembersStatement, [
      [...groupIds],
    ]);
    const found = new Map(rows.map((row) => [row.group_id, row.found ? new Set(row.members) : null]));
    return new Map(groupIds.map((groupId) => [groupId, found.get(groupId) ?? null]));
  }

  async getMembersWithCapabilities(groupId: string): Promise<Map<string, Uint8Array>> {
    const rows = await this.query<{ found: boolean; member_id: string | null; capabilities: Buffer | null }>(
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

  async getMember(groupId: string, memberId: string): Promise<StoredMember> {
    const [row] = await this.query<{
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

  async updateCapabilities(groupId: string, capabilities: Uint8Array): Promise<void> {
    const [row] = await this.query<{ found: boolean; updated: boolean }>(updateCapabilitiesStatement, [
      groupId,
      this.memberId,
      Buffer.from(capabilities.buffer, capabilities.byteOffset, capabilities.byteLength),
    ]);
    if (!row!.found) throw new GroupNotCreatedError(groupId);
    if (!row!.updated) throw new MemberNotJoinedError(groupId, this.memberId);
  }

  // ---- Leadership and watching -------------------------------------------------------

  async getLeader(groupId: string): Promise<string | null> {
    const [row] = await this.query<{ found: boolean; leader: string | null }>(getLeaderStatement, [groupId]);
    if (!row!.found) throw new GroupNotCreatedError(groupId);
    return row!.leader;
  }

  async elect(groupIds: readonly string[]): Promise<Set<string>> {
    const keys = groupIds.map((groupId) => this.keys.leader(groupId));
    const [row] = await this.query<{ led: string[] }>(
      electStatement,
      [text(this.sessionKey), this.memberId, [...groupIds], keys.map(text)],
      { keys },
    );
    const led = new Set(row!.led);
    for (const groupId of groupIds) {
      if (led.has(groupId)) this.leading.add(groupId);
      else this.leading.delete(groupId);
    }
    return led;
  }

  async standDown(groupId: string): Promise<boolean> {
    const key = this.keys.leader(groupId);
    // Failed, it is not believed either: the repair gives it up.
    const answer = await this.ask(standDownStatement, [text(this.sessionKey), groupId, text(key)], {
      keys: [key],
      groups: [groupId],
    });
    this.leading.delete(groupId);
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    return answer === 'stood down';
  }
}
