import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryDriver } from '../lib/drivers/memory/index.js';
import { FaultyBackend } from './support/faulty-backend.js';
import {
  type CoordinationEvent,
  Coordinator,
  getCoordinator,
  GroupNotCreatedError,
  HashRing,
  Partitioner,
} from '../lib/index.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const sorted = (nodes: Iterable<string>): string[] => [...nodes].sort();
const range = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i));

/**
 * The memory driver, with a hook run in the middle of a backend read: for the
 * cases where another member must join or leave, or the backend must fail,
 * while a partitioner is reading. Each hook runs once, then is cleared.
 */
class Probe extends Coordinator {
  /** Runs before the group's members are read. */
  beforeMembersRead?: () => Promise<void>;
  /** Runs after the group's members are read, before they are returned. */
  afterMembersRead?: () => Promise<void>;
  /** Runs before one member's record is read (getMemberCapabilities); may throw. */
  beforeMemberRead?: (memberId: string) => Promise<void>;

  constructor(url: URL, memberId: string) {
    const faults = new FaultyBackend(memoryDriver(url, memberId, {}));
    super(memberId, {}, faults.backend);
    faults.before('getMembersWithCapabilities', () => take(this, 'beforeMembersRead')?.());
    faults.after('getMembersWithCapabilities', () => take(this, 'afterMembersRead')?.());
    faults.before('getMember', (_groupId: string, memberId: string) => take(this, 'beforeMemberRead')?.(memberId));
  }
}

function take<K extends 'beforeMembersRead' | 'afterMembersRead' | 'beforeMemberRead'>(
  probe: Probe,
  hook: K,
): Probe[K] {
  const run = probe[hook];
  probe[hook] = undefined;
  return run;
}

describe('Partitioner', () => {
  let url: string;
  const made: Coordinator[] = [];
  const g = 'workers';

  beforeEach(() => {
    url = `memory://${randomUUID()}`;
  });

  afterEach(async () => {
    for (const c of made.splice(0)) if (c.isStarted) await c.stop().catch(() => undefined);
  });

  /** A started coordinator on this test's memory backend. */
  async function start(memberId: string): Promise<Coordinator> {
    const c = getCoordinator(url, memberId);
    made.push(c);
    await c.start();
    return c;
  }

  /** A started `Probe` on this test's memory backend. */
  async function startProbe(memberId: string): Promise<Probe> {
    const c = new Probe(new URL(url), memberId);
    made.push(c);
    await c.start();
    return c;
  }

  /** Membership events as `runWatchers()` delivers them, as "join x" / "leave y". */
  function record(c: Coordinator): string[] {
    const seen: string[] = [];
    c.events$.subscribe((event: CoordinationEvent) => {
      if (event.type === 'MemberJoinedGroup') seen.push(`join ${event.memberId}`);
      if (event.type === 'MemberLeftGroup') seen.push(`leave ${event.memberId}`);
    });
    return seen;
  }

  /** `me` joins partitioned after `others` joined the group. */
  async function cluster(others: string[]): Promise<{ me: Coordinator; p: Partitioner }> {
    for (const id of others) await (await start(id)).joinGroupCreate(g);
    const me = await start('me');
    return { me, p: await me.joinPartitionedGroup(g) };
  }

  it('watches the group before reading its members, then weighs them by capability', async () => {
    const capabilities = {
      big: { weight: 10 },
      'no-weight': {},
      'not-a-dict': 'caps',
      zero: { weight: 0 },
      fraction: { weight: 2.5 },
      text: { weight: '3' },
    };
    for (const [id, caps] of Object.entries(capabilities)) await (await start(id)).joinGroupCreate(g, caps);

    const me = await start('me');
    const spies = {
      watchJoinGroup: vi.spyOn(me, 'watchJoinGroup'),
      watchLeaveGroup: vi.spyOn(me, 'watchLeaveGroup'),
      getMembersWithCapabilities: vi.spyOn(me, 'getMembersWithCapabilities'),
      getMemberCapabilities: vi.spyOn(me, 'getMemberCapabilities'),
    };
    const p = await me.joinPartitionedGroup(g, { weight: 5, partitions: 8 });
    const calls = Object.entries(spies)
      .flatMap(([name, spy]) => spy.mock.invocationCallOrder.map((at) => [at, name] as const))
      .sort(([a], [b]) => a - b)
      .map(([, name]) => name);
    expect(calls).toEqual(['watchJoinGroup', 'watchLeaveGroup', 'getMembersWithCapabilities']);

    expect(p.groupId).toBe(g);
    expect(p.partitions).toBe(8);
    expect(p.ring.partitions).toBe(8);
    expect(Object.fromEntries(p.ring.nodes)).toEqual({
      me: 5,
      big: 10,
      'no-weight': 1,
      'not-a-dict': 1,
      zero: 0,
      fraction: 1,
      text: 1,
    });
    expect(p.ring.size).toBe(8 * (5 + 10 + 4));
  });

  it('follows join and leave events (tooz test_hashring_size / test_hashring_weight)', async () => {
    const me = await start('me');
    const p = await me.joinPartitionedGroup(g, { weight: 5 });
    expect([...p.ring.nodes.values()]).toEqual([5]);

    const a = await start('a');
    const pa = await a.joinPartitionedGroup(g, { weight: 10 });
    await me.runWatchers();
    expect(new Set(p.ring.nodes.values())).toEqual(new Set([5, 10]));

    const b = await start('b');
    const pb = await b.joinPartitionedGroup(g);
    await me.runWatchers();
    // A late joiner reads the weights of those already there.
    const c = await start('c');
    const late = await c.joinPartitionedGroup(g);
    await me.runWatchers();
    expect(p.ring.nodes.size).toBe(4);
    expect(p.ring.size).toBe(32 * (5 + 10 + 1 + 1));
    expect(Object.fromEntries(late.ring.nodes)).toEqual(Object.fromEntries(p.ring.nodes));

    await a.leavePartitionedGroup(pa);
    await b.leavePartitionedGroup(pb);
    await c.leavePartitionedGroup(late);
    await me.runWatchers();
    expect([...p.ring.nodes.keys()]).toEqual(['me']);
    expect(p.ring.size).toBe(32 * 5);
    await me.leavePartitionedGroup(p);
  });

  it('ignores a join of a member already on the ring and a leave of one that is not', async () => {
    const stranger = await start('stranger');
    await stranger.joinGroupCreate(g);
    const x = await start('x');
    const me = await startProbe('me');
    // Between the watchers' baseline and the ring's read: x arrives, stranger goes.
    me.beforeMembersRead = async () => {
      await x.joinGroup(g);
      await stranger.leaveGroup(g);
    };
    const p = await me.joinPartitionedGroup(g);
    expect(Object.fromEntries(p.ring.nodes)).toEqual({ me: 1, x: 1 });

    // x's join, when it comes, is not a reason to re-read its weight.
    await x.updateCapabilities(g, { weight: 7 });
    const events = record(me);
    const readCapabilities = vi.spyOn(me, 'getMemberCapabilities');
    // One result per event delivered to the partitioner's join and leave callbacks.
    await expect(me.runWatchers()).resolves.toHaveLength(2);
    expect(events).toEqual(['join x', 'leave stranger']);
    expect(readCapabilities).not.toHaveBeenCalled();
    expect(Object.fromEntries(p.ring.nodes)).toEqual({ me: 1, x: 1 });
    expect(p.ring.size).toBe(64);
  });

  it('skips a joiner gone before its capabilities are read, and reports other failures', async () => {
    const me = await startProbe('me');
    const p = await me.joinPartitionedGroup(g);
    const events = record(me);

    const ghost = await start('ghost');
    await ghost.joinGroup(g);
    me.beforeMemberRead = async (memberId) => {
      if (memberId === 'ghost') await ghost.leaveGroup(g);
    };
    await expect(me.runWatchers()).resolves.toHaveLength(1);
    expect(events).toEqual(['join ghost']);
    expect([...p.ring.nodes.keys()]).toEqual(['me']);
    await me.runWatchers(); // its leave follows, for a member never placed
    expect(events).toEqual(['join ghost', 'leave ghost']);
    expect([...p.ring.nodes.keys()]).toEqual(['me']);

    const x = await start('x');
    await x.joinGroup(g);
    me.beforeMemberRead = async () => {
      throw new Error('connection reset');
    };
    await expect(me.runWatchers()).rejects.toThrow('connection reset');
    expect([...p.ring.nodes.keys()]).toEqual(['me']);

    // The failure does not jam the partitioner: x's next join is applied.
    await x.leaveGroup(g);
    await me.runWatchers();
    await x.joinGroup(g);
    await me.runWatchers();
    expect(sorted(p.ring.nodes.keys())).toEqual(['me', 'x']);
  });

  it('applies events delivered while the first ring is being read', async () => {
    const leaving = await start('leaving');
    await leaving.joinGroupCreate(g);
    const arriving = await start('arriving');
    const me = await startProbe('me');
    const events = record(me);
    // The members are read with "leaving" in; then a concurrent runWatchers()
    // delivers its leave and arriving's join before the ring is built.
    me.afterMembersRead = async () => {
      await leaving.leaveGroup(g);
      await arriving.joinGroup(g, { weight: 2 });
      await me.runWatchers();
    };
    const p = await me.joinPartitionedGroup(g);
    expect(events).toEqual(['join arriving', 'leave leaving']);
    expect(Object.fromEntries(p.ring.nodes)).toEqual({ me: 1, arriving: 2 });

    // Those events are not delivered again: the ring had to apply them then.
    await me.runWatchers();
    expect(events).toHaveLength(2);
    expect(Object.fromEntries(p.ring.nodes)).toEqual({ me: 1, arriving: 2 });
  });

  it('stop() unwatches both callbacks and keeps answering from the last ring (tooz test_stop)', async () => {
    const me = await start('me');
    const p = await me.joinPartitionedGroup(g);
    const other = await start('other');
    await other.joinGroup(g);
    await me.runWatchers();
    expect(sorted(p.ring.nodes.keys())).toEqual(['me', 'other']);
    expect(me.watcherCount('join', g)).toBe(1);
    expect(me.watcherCount('leave', g)).toBe(1);
    const before = p.membersForObject('fake', { replicas: 2 });

    await p.stop();
    expect(me.watcherCount('join', g)).toBe(0);
    expect(me.watcherCount('leave', g)).toBe(0);
    await (await start('newcomer')).joinGroup(g);
    await other.leaveGroup(g);
    await me.runWatchers();
    expect(sorted(p.ring.nodes.keys())).toEqual(['me', 'other']);
    expect(p.membersForObject('fake', { replicas: 2 })).toEqual(before);
    await expect(p.stop()).resolves.toBeUndefined();
  });

  it('fails creation without leaving watchers behind when the group cannot be read', async () => {
    const other = await start('other');
    await other.createGroup(g);
    const me = await startProbe('me');
    // Watching succeeds; then the group is deleted before its members are read.
    me.beforeMembersRead = () => other.deleteGroup(g);
    await expect(Partitioner.create(me, g)).rejects.toBeInstanceOf(GroupNotCreatedError);
    expect(me.watcherCount('join', g) + me.watcherCount('leave', g)).toBe(0);
  });

  it('places an object by toCoordinationKey() when it has one, else by String(obj)', async () => {
    const { p } = await cluster(['a', 'b', 'c']);
    const ring = new HashRing(['me', 'a', 'b', 'c']);
    expect(sorted(p.ring.nodes.keys())).toEqual(['a', 'b', 'c', 'me']);

    for (const key of range(100)) {
      const keyed = { toCoordinationKey: () => `job-${key}` };
      const printable = { toString: () => `job-${key}` };
      expect(p.membersForObject(keyed)).toEqual(ring.getNodes(`job-${key}`));
      expect(p.membersForObject(printable)).toEqual(ring.getNodes(`job-${key}`));
      expect(p.membersForObject(Number(key), { replicas: 2 })).toEqual(ring.getNodes(key, { replicas: 2 }));
    }
    const bytesKeyed = { toCoordinationKey: () => utf8('чупакабра') };
    expect(p.membersForObject(bytesKeyed)).toEqual(ring.getNodes('чупакабра'));
    // A toCoordinationKey that is not a function is just a property.
    const notAMethod = { toCoordinationKey: 'x', toString: () => 'fake' };
    expect(p.membersForObject(notAMethod)).toEqual(ring.getNodes('fake'));
    expect(p.membersForObject(null)).toEqual(ring.getNodes('null'));
  });

  it('belongsToMember / belongsToSelf answer from the ring (tooz test_members_of_object_and_others)', async () => {
    const { p } = await cluster(['a', 'b', 'c']);
    const object = 'чупакабра';
    const owners = p.membersForObject(object);
    expect(owners.size).toBe(1);
    const [owner] = owners;
    expect(p.belongsToMember(object, owner)).toBe(true);
    expect(p.belongsToMember(object, 'chupacabra')).toBe(false);
    expect(p.belongsToSelf(object)).toBe(owner === 'me');

    // Every member owns something, each key has exactly one owner, and ignoring
    // the owner hands the key to someone else.
    const keys = range(200);
    for (const key of keys) {
      const holders = ['me', 'a', 'b', 'c'].filter((m) => p.belongsToMember(key, m));
      expect(holders).toHaveLength(1);
      expect(p.belongsToSelf(key)).toBe(holders[0] === 'me');
      expect(p.belongsToMember(key, holders[0], { ignoreMembers: [holders[0]] })).toBe(false);
      expect(p.belongsToSelf(key, { replicas: 4 })).toBe(true);
    }
    expect(keys.filter((key) => p.belongsToSelf(key)).length).toBeGreaterThan(0);
  });
});
