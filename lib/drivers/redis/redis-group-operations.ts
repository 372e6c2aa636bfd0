import type { ChainableCommander, Redis } from 'ioredis';
import type { StoredMember } from '../../core/coordinator-options.js';
import {
  GroupAlreadyExistError,
  GroupNotCreatedError,
  GroupNotEmptyError,
  MemberAlreadyExistError,
  MemberNotJoinedError,
} from '../../errors.js';
import { runAcknowledged } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisSettings } from './redis-options.js';
import {
  createGroupScript,
  deleteGroupScript,
  electScript,
  joinScript,
  leaderScript,
  leaveScript,
  memberScript,
  membersScript,
  membersWithCapabilitiesScript,
  standDownScript,
  updateCapabilitiesScript,
} from './scripts/index.js';

/**
 * Groups, members and leadership on Redis, one script per call, in tooz's
 * layout (docs/redis.md). `RedisDriver` adds the session: connections,
 * the beat, pushes and locks.
 */
export abstract class RedisGroupOperations {
  protected abstract readonly keys: RedisKeys;
  protected abstract readonly settings: RedisSettings;
  protected abstract readonly memberId: string;
  abstract readonly leaseMs: number;
  /** This session's leadership token: `<session>:<member>`. */
  protected abstract token: string;
  /** Replicas that must acknowledge a win (`WAIT`); 0 for none. */
  protected abstract get replicaCount(): number;
  /** Both connections up and the session channel's subscription confirmed: only then is anything won. */
  protected abstract get granting(): boolean;
  protected abstract connected(): Redis;

  // ---- Groups and members ----------------------------------------------------------

  async createGroup(groupId: string): Promise<void> {
    const created = await createGroupScript.call(
      this.connected(),
      [this.keys.group(groupId), this.keys.groups],
      [groupId],
    );
    if (!created) throw new GroupAlreadyExistError(groupId);
  }

  async getGroups(): Promise<string[]> {
    return this.connected().smembers(this.keys.groups);
  }

  async joinGroup(groupId: string, capabilities: Uint8Array): Promise<void> {
    const answer = await joinScript.call(
      this.connected(),
      [this.keys.group(groupId), this.keys.info(groupId)],
      [this.memberId, Buffer.from(capabilities), this.keys.events(groupId)],
    );
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    if (answer === 'already a member') throw new MemberAlreadyExistError(groupId, this.memberId);
  }

  async leaveGroup(groupId: string): Promise<void> {
    const answer = await leaveScript.call(
      this.connected(),
      [this.keys.group(groupId), this.keys.info(groupId)],
      [this.memberId, this.keys.events(groupId)],
    );
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    if (answer === 'not a member') throw new MemberNotJoinedError(groupId, this.memberId);
  }

  async deleteGroup(groupId: string): Promise<void> {
    const answer = await deleteGroupScript.call(
      this.connected(),
      [this.keys.group(groupId), this.keys.groups, this.keys.info(groupId), this.keys.leader(groupId)],
      [
        groupId,
        this.keys.beatPrefix,
        this.memberId,
        this.keys.events(groupId),
        this.keys.sessions,
        this.keys.sessionPrefix,
      ],
    );
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    if (answer === 'not empty') throw new GroupNotEmptyError(groupId);
  }

  async getMembers(groupIds: readonly string[]): Promise<Map<string, Set<string> | null>> {
    const groups = await membersScript.call(
      this.connected(),
      groupIds.flatMap((groupId) => [this.keys.group(groupId), this.keys.info(groupId)]),
      [
        this.keys.beatPrefix,
        this.memberId,
        this.keys.sessions,
        this.keys.sessionPrefix,
        ...groupIds.map((groupId) => this.keys.events(groupId)),
      ],
    );
    return new Map(groupIds.map((groupId, i) => [groupId, groups[i] ?? null]));
  }

  async getMembersWithCapabilities(groupId: string): Promise<Map<string, Uint8Array>> {
    const answer = await membersWithCapabilitiesScript.callBuffer(
      this.connected(),
      [this.keys.group(groupId), this.keys.info(groupId)],
      [this.keys.beatPrefix, this.memberId, this.keys.events(groupId), this.keys.sessions, this.keys.sessionPrefix],
    );
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    return answer;
  }

  async getMember(groupId: string, memberId: string): Promise<StoredMember> {
    const answer = await memberScript.callBuffer(
      this.connected(),
      [this.keys.group(groupId), this.keys.info(groupId), this.keys.beat(memberId)],
      [memberId, this.memberId],
    );
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    if (answer === 'not a member') throw new MemberNotJoinedError(groupId, memberId);
    return answer;
  }

  async updateCapabilities(groupId: string, capabilities: Uint8Array): Promise<void> {
    const answer = await updateCapabilitiesScript.call(
      this.connected(),
      [this.keys.group(groupId), this.keys.info(groupId)],
      [this.memberId, Buffer.from(capabilities)],
    );
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    if (answer === 'not a member') throw new MemberNotJoinedError(groupId, this.memberId);
  }

  // ---- Leadership and watching -------------------------------------------------------

  async getLeader(groupId: string): Promise<string | null> {
    const answer = await leaderScript.call(this.connected(), [this.keys.leader(groupId), this.keys.group(groupId)], []);
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    return answer;
  }

  async elect(groupIds: readonly string[]): Promise<Set<string>> {
    // Elected nowhere while others may see this session as gone (docs/redis.md#failover).
    if (!this.granting) return new Set();
    // Acknowledged by a replica when there are some: a failover right after must not make a second leader.
    const reply = await runAcknowledged(
      this.connected(),
      this.replicaCount,
      this.settings.waitTimeoutMs,
      (target) =>
        electScript.run(
          target,
          groupIds.flatMap((groupId) => [this.keys.leader(groupId), this.keys.group(groupId)]),
          [this.token, this.leaseMs, this.keys.sessionPrefix, ...groupIds.map((groupId) => this.keys.events(groupId))],
        ),
      `elect ${groupIds.join(', ')}`,
    );
    const led = electScript.decode(reply);
    if (led === 'unsubscribed') return new Set(); // Redis saw no subscriber on our channel: nothing won or kept
    return new Set(groupIds.filter((_, i) => led[i]));
  }

  async standDown(groupId: string): Promise<boolean> {
    const answer = standDownScript.decode(await this.standDownIn(this.connected(), groupId));
    if (answer === 'no group') throw new GroupNotCreatedError(groupId);
    return answer === 'stood down';
  }

  /** Give up leadership of `groupId`, alone or in a pipeline (decoded by `standDownScript.decode`). */
  protected standDownIn(client: Redis | ChainableCommander, groupId: string): Promise<unknown> {
    return standDownScript.run(
      client,
      [this.keys.leader(groupId), this.keys.group(groupId)],
      [this.token, this.keys.events(groupId)],
    );
  }
}
