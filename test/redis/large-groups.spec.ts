/**
 * docs/redis.md#large-groups on a redis-server of this test's own: a group
 * of 50 000 members is read, watched, partitioned and deleted. The members
 * are seeded as Python tooz members join (their keys written directly, as
 * docs/redis.md describes), not as 50 000 coordinators. A script error comes
 * out as a CoordinationError naming the operation and the group.
 */
import { encode } from '@msgpack/msgpack';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationError, type Coordinator, getCoordinator, MemberJoinedGroup } from '../../lib/index.js';
import { uid } from '../support/drivers.js';
import { type OwnServer, OwnServers, redisServerAvailable } from './redis-servers.js';

const MEMBERS = 50_000;

describe.runIf(redisServerAvailable() || Boolean(process.env.CI))('redis:// with a group of 50 000 members', () => {
  let servers: OwnServers;
  let server: OwnServer;
  let admin: Redis;
  const started: Coordinator[] = [];

  beforeAll(async () => {
    servers = new OwnServers();
    server = await servers.redis();
    admin = server.client();
  }, 20_000);
  afterAll(async () => {
    for (const coordinator of started) if (coordinator.isStarted) await coordinator.stop().catch(() => undefined);
    await servers?.stopAll();
  });

  async function start(namespace: string): Promise<Coordinator> {
    const coordinator = getCoordinator(`redis://127.0.0.1:${server.port}?namespace=${namespace}`, uid('node'));
    started.push(coordinator);
    await coordinator.start();
    return coordinator;
  }

  /** What tooz's join writes for each member: its field in the group hash and its beat key. */
  async function seed(namespace: string, groupId: string, members: string[], beatMs: number): Promise<void> {
    const pipeline = admin.pipeline();
    pipeline.sadd(`${namespace}_groups`, groupId);
    pipeline.hset(`${namespace}_group:${groupId}`, '__created__', '1');
    for (const member of members) {
      pipeline.hset(`${namespace}_group:${groupId}`, member, Buffer.from(encode({ weight: 1 })));
      pipeline.set(`${namespace}_beats:${member}`, 'Not dead!', 'PX', beatMs);
    }
    await pipeline.exec();
  }

  const names = (count: number) => Array.from({ length: count }, (_, i) => `py-${i}`);

  it('getMembers, getMembersWithCapabilities, runWatchers and the partitioner read every member', async () => {
    const namespace = uid('ns');
    const groupId = uid('group');
    const members = names(MEMBERS);
    await seed(namespace, groupId, members, 120_000);
    const coordinator = await start(namespace);

    expect((await coordinator.getMembers(groupId)).size).toBe(MEMBERS);
    const withCapabilities = await coordinator.getMembersWithCapabilities(groupId);
    expect(withCapabilities.size).toBe(MEMBERS);
    expect(withCapabilities.get('py-49999')).toEqual({ weight: 1 });

    const joined: string[] = [];
    await coordinator.watchJoinGroup(groupId, (event: MemberJoinedGroup) => void joined.push(event.memberId));
    await coordinator.runWatchers();
    await seed(namespace, groupId, ['py-late'], 120_000);
    // Python members publish nothing: the watcher's fallback read (at most 500 ms apart) finds them.
    await new Promise((resolve) => setTimeout(resolve, 600));
    await coordinator.runWatchers();
    expect(joined).toContain('py-late');

    const partitioner = await coordinator.joinPartitionedGroup(groupId);
    expect(partitioner.membersForObject('some-object').size).toBe(1);
    await partitioner.stop();
    await coordinator.leaveGroup(groupId);
  }, 60_000);

  it('deleteGroup of 50 000 members whose beats are gone deletes it', async () => {
    const namespace = uid('ns');
    const groupId = uid('group');
    await seed(namespace, groupId, names(MEMBERS), 1);
    const coordinator = await start(namespace);
    await coordinator.deleteGroup(groupId);
    expect(await coordinator.getGroups()).toEqual([]);
    expect(await admin.exists(`${namespace}_group:${groupId}`)).toBe(0);
  }, 60_000);

  it('a script error is a CoordinationError naming the operation and the group', async () => {
    const namespace = uid('ns');
    const groupId = uid('group');
    const coordinator = await start(namespace);
    await admin.set(`${namespace}_group:${groupId}`, 'not a hash');
    const error = await coordinator.getMembers(groupId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoordinationError);
    expect((error as Error).message).toContain('getMembers');
    expect((error as Error).message).toContain(groupId);
    expect((error as Error).message).toMatch(/WRONGTYPE/);
  });
});
