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

/** The election's answer when the caller's own session channel has no subscriber. */
const UNSUBSCRIBED = -2;

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
    const created = await createGroupScript.run(
      this.connected(),
      [this.keys.group(groupId), this.keys.groups],
      [groupId],
    );
    if (created === 0) throw new GroupAlreadyExistError(groupId);
  }

  async getGroups(): Promise<string[]> {
    return this.connected().smembers(this.keys.groups);
  }

  async joinGroup(groupId: string, capabilities: Uint8Array): Promise<void> {
    const answer = await joinScript.run(
      this.connected(),
      [this.keys.group(groupId), this.keys.info(groupId)],
      [this.memberId, Buffer.from(capabilities), this.keys.events(groupId)],
    );
    if (answer === -1) throw new GroupNotCreatedError(groupId);
    if (answer === -3) throw new MemberAlreadyExistError(groupId, this.memberId);
  }

  async leaveGroup(groupId: string): Promise<void> {
    const answer = await leaveScript.run(
      this.connected(),
      [this.keys.group(groupId), this.keys.info(groupId)],
      [this.memberId, this.keys.events(groupId)],
    );
    if (answer === -1) throw new GroupNotCreatedError(groupId);
    if (answer === -2) throw new MemberNotJoinedError(groupId, this.memberId);
  }

  async deleteGroup(groupId: string): Promise<void> {
    const answer = await deleteGroupScript.run(
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
    if (answer === -1) throw new GroupNotCreatedError(groupId);
    if (answer === -3) throw new GroupNotEmptyError(groupId);
  }

  async getMembers(groupIds: readonly string[]): Promise<Map<string, Set<string> | null>> {
    const rows = (await membersScript.run(
      this.connected(),
      groupIds.flatMap((groupId) => [this.keys.group(groupId), this.keys.info(groupId)]),
      [
        this.keys.beatPrefix,
        this.memberId,
        this.keys.sessions,
        this.keys.sessionPrefix,
        ...groupIds.map((groupId) => this.keys.events(groupId)),
      ],
    )) as [number, ...string[]][];
    return new Map(
      groupIds.map((groupId, i) => {
        const [exists, ...members] = rows[i]!;
        return [groupId, exists === 1 ? new Set(members) : null];
      }),
    );
  }

  async getMembersWithCapabilities(groupId: string): Promise<Map<string, Uint8Array>> {
    const answer = await membersWithCapabilitiesScript.runBuffer(
      this.connected(),
      [this.keys.group(groupId), this.keys.info(groupId)],
      [this.keys.beatPrefix, this.memberId, this.keys.events(groupId), this.keys.sessions, this.keys.sessionPrefix],
    );
    if (answer === -1) throw new GroupNotCreatedError(groupId);
    const flat = answer as Buffer[];
    const members = new Map<string, Uint8Array>();
    for (let i = 0; i < flat.length; i += 2) members.set(flat[i]!.toString('utf8'), new Uint8Array(flat[i + 1]!));
    return members;
  }

  async getMember(groupId: string, memberId: string): Promise<StoredMember> {
    const answer = await memberScript.runBuffer(
      this.connected(),
      [this.keys.group(groupId), this.keys.info(groupId), this.keys.beat(memberId)],
      [memberId, this.memberId],
    );
    if (answer === -1) throw new GroupNotCreatedError(groupId);
    if (answer === -2) throw new MemberNotJoinedError(groupId, memberId);
    const [capabilities, info] = answer as [Buffer, Buffer];
    // A member joined by Python tooz has no recorded times: the epoch says "unknown".
    const [created = 0, updated = created] = info.toString('utf8').split(',').map(Number);
    return { capabilities: new Uint8Array(capabilities), createdAt: new Date(created), updatedAt: new Date(updated) };
  }

  async updateCapabilities(groupId: string, capabilities: Uint8Array): Promise<void> {
    const answer = await updateCapabilitiesScript.run(
      this.connected(),
      [this.keys.group(groupId), this.keys.info(groupId)],
      [this.memberId, Buffer.from(capabilities)],
    );
    if (answer === -1) throw new GroupNotCreatedError(groupId);
    if (answer === -2) throw new MemberNotJoinedError(groupId, this.memberId);
  }

  // ---- Leadership and watching -------------------------------------------------------

  async getLeader(groupId: string): Promise<string | null> {
    const answer = await leaderScript.run(this.connected(), [this.keys.leader(groupId), this.keys.group(groupId)], []);
    if (answer === -1) throw new GroupNotCreatedError(groupId);
    if (typeof answer !== 'string') return null;
    // Ours are `<32 hex>:<member>`; a Python tooz leader's token names nobody.
    const match = /^[0-9a-f]{32}:([\s\S]+)$/.exec(answer);
    return match ? match[1]! : null;
  }

  async elect(groupIds: readonly string[]): Promise<Set<string>> {
    // Elected nowhere while others may see this session as gone (docs/redis.md#failover).
    if (!this.granting) return new Set();
    // Acknowledged by a replica when there are some: a failover right after must not make a second leader.
    const led = (await runAcknowledged(
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
    )) as number[] | typeof UNSUBSCRIBED;
    if (led === UNSUBSCRIBED) return new Set(); // Redis saw no subscriber on our channel: nothing won or kept
    return new Set(groupIds.filter((_, i) => led[i] === 1));
  }

  async standDown(groupId: string): Promise<boolean> {
    const answer = await this.standDownIn(this.connected(), groupId);
    if (answer === -1) throw new GroupNotCreatedError(groupId);
    return answer === 1;
  }

  /** Give up leadership of `groupId` (-1 no group, 1 given up, 0 not ours), alone or in a pipeline. */
  protected standDownIn(client: Redis | ChainableCommander, groupId: string): Promise<unknown> {
    return standDownScript.run(
      client,
      [this.keys.leader(groupId), this.keys.group(groupId)],
      [this.token, this.keys.events(groupId)],
    );
  }
}
