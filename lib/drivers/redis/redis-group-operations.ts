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

/** What a group call needs from the driver, as the session is now. */
export interface RedisGroupContext {
  readonly client: Redis;
  readonly keys: RedisKeys;
  readonly memberId: string;
  /** This session's leadership token: `<session>:<member>`. */
  readonly token: string;
  readonly leaseMs: number;
  /** Replicas that must acknowledge a win (`WAIT`); 0 for none. */
  readonly replicas: number;
  readonly waitTimeoutMs: number;
  /** Both connections up and the session channel's subscription confirmed: only then is anything won. */
  readonly granting: boolean;
}

// Groups, members and leadership on Redis, one script per call, in tooz's
// layout (docs/redis.md): plain functions over the driver's connection;
// `RedisDriver` keeps the session (connections, the beat, pushes, locks).

// ---- Groups and members ----------------------------------------------------------

export async function createGroup(at: RedisGroupContext, groupId: string): Promise<void> {
  const created = await createGroupScript.call(at.client, [at.keys.group(groupId), at.keys.groups], [groupId]);
  if (!created) throw new GroupAlreadyExistError(groupId);
}

export async function getGroups(at: RedisGroupContext): Promise<string[]> {
  return at.client.smembers(at.keys.groups);
}

export async function joinGroup(at: RedisGroupContext, groupId: string, capabilities: Uint8Array): Promise<void> {
  const answer = await joinScript.call(
    at.client,
    [at.keys.group(groupId), at.keys.info(groupId)],
    [at.memberId, Buffer.from(capabilities), at.keys.events(groupId)],
  );
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  if (answer === 'already a member') throw new MemberAlreadyExistError(groupId, at.memberId);
}

export async function leaveGroup(at: RedisGroupContext, groupId: string): Promise<void> {
  const answer = await leaveScript.call(
    at.client,
    [at.keys.group(groupId), at.keys.info(groupId)],
    [at.memberId, at.keys.events(groupId)],
  );
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  if (answer === 'not a member') throw new MemberNotJoinedError(groupId, at.memberId);
}

export async function deleteGroup(at: RedisGroupContext, groupId: string): Promise<void> {
  const answer = await deleteGroupScript.call(
    at.client,
    [at.keys.group(groupId), at.keys.groups, at.keys.info(groupId), at.keys.leader(groupId)],
    [groupId, at.keys.beatPrefix, at.memberId, at.keys.events(groupId), at.keys.sessions, at.keys.sessionPrefix],
  );
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  if (answer === 'not empty') throw new GroupNotEmptyError(groupId);
}

export async function getMembers(
  at: RedisGroupContext,
  groupIds: readonly string[],
): Promise<Map<string, Set<string> | null>> {
  const groups = await membersScript.call(
    at.client,
    groupIds.flatMap((groupId) => [at.keys.group(groupId), at.keys.info(groupId)]),
    [
      at.keys.beatPrefix,
      at.memberId,
      at.keys.sessions,
      at.keys.sessionPrefix,
      ...groupIds.map((groupId) => at.keys.events(groupId)),
    ],
  );
  return new Map(groupIds.map((groupId, i) => [groupId, groups[i] ?? null]));
}

export async function getMembersWithCapabilities(
  at: RedisGroupContext,
  groupId: string,
): Promise<Map<string, Uint8Array>> {
  const answer = await membersWithCapabilitiesScript.callBuffer(
    at.client,
    [at.keys.group(groupId), at.keys.info(groupId)],
    [at.keys.beatPrefix, at.memberId, at.keys.events(groupId), at.keys.sessions, at.keys.sessionPrefix],
  );
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  return answer;
}

export async function getMember(at: RedisGroupContext, groupId: string, memberId: string): Promise<StoredMember> {
  const answer = await memberScript.callBuffer(
    at.client,
    [at.keys.group(groupId), at.keys.info(groupId), at.keys.beat(memberId)],
    [memberId, at.memberId],
  );
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  if (answer === 'not a member') throw new MemberNotJoinedError(groupId, memberId);
  return answer;
}

export async function updateCapabilities(
  at: RedisGroupContext,
  groupId: string,
  capabilities: Uint8Array,
): Promise<void> {
  const answer = await updateCapabilitiesScript.call(
    at.client,
    [at.keys.group(groupId), at.keys.info(groupId)],
    [at.memberId, Buffer.from(capabilities)],
  );
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  if (answer === 'not a member') throw new MemberNotJoinedError(groupId, at.memberId);
}

// ---- Leadership and watching -------------------------------------------------------

export async function getLeader(at: RedisGroupContext, groupId: string): Promise<string | null> {
  const answer = await leaderScript.call(at.client, [at.keys.leader(groupId), at.keys.group(groupId)], []);
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  return answer;
}

export async function elect(at: RedisGroupContext, groupIds: readonly string[]): Promise<Set<string>> {
  // Elected nowhere while others may see this session as gone (docs/redis.md#failover).
  if (!at.granting) return new Set();
  // Acknowledged by a replica when there are some: a failover right after must not make a second leader.
  const reply = await runAcknowledged(
    at.client,
    at.replicas,
    at.waitTimeoutMs,
    (target) =>
      electScript.run(
        target,
        groupIds.flatMap((groupId) => [at.keys.leader(groupId), at.keys.group(groupId)]),
        [at.token, at.leaseMs, at.keys.sessionPrefix, ...groupIds.map((groupId) => at.keys.events(groupId))],
      ),
    `elect ${groupIds.join(', ')}`,
  );
  const led = electScript.decode(reply);
  if (led === 'unsubscribed') return new Set(); // Redis saw no subscriber on our channel: nothing won or kept
  return new Set(groupIds.filter((_, i) => led[i]));
}

export async function standDown(at: RedisGroupContext, groupId: string): Promise<boolean> {
  const answer = standDownScript.decode(await standDownIn(at, at.client, groupId));
  if (answer === 'no group') throw new GroupNotCreatedError(groupId);
  return answer === 'stood down';
}

/** Give up leadership of `groupId`, alone or in a pipeline (decoded by `standDownScript.decode`). */
export function standDownIn(
  at: RedisGroupContext,
  client: Redis | ChainableCommander,
  groupId: string,
): Promise<unknown> {
  return standDownScript.run(
    client,
    [at.keys.leader(groupId), at.keys.group(groupId)],
    [at.token, at.keys.events(groupId)],
  );
}
