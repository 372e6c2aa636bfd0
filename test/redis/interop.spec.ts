/**
 * Wire compatibility with the real Python tooz (Debian python3-tooz 3.1.0,
 * run by /usr/bin/python3) on the local Redis: one Python process per file
 * (test/redis/python/tooz_peer.py) plays the Python members. tooz 3.1.0 writes
 * tooz < 9 "legacy" lock keys (docs/redis.md#keys), so the Node side names its
 * locks with lock_key_style=legacy (str names) or legacy_bytes (bytes names).
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Coordinator, getCoordinator } from '../../lib/index.js';
import { testNamespace, uid } from '../support/drivers.js';
import { REDIS, serverInUse } from '../support/servers.js';
import { PythonPeer, pyBytes, toozVersion } from './python-peer.js';

const version = toozVersion();
const redisUp = await serverInUse(REDIS);
if (version === null && !process.env.CI) {
  console.warn(
    '\n*** Python tooz is not importable by /usr/bin/python3: the tooz interop tests are SKIPPED.\n' +
      '*** Install it with: apt-get install python3-tooz\n',
  );
}
// Under CI a missing tooz fails (the peer cannot start), never skips.
const runs = redisUp && (version !== null || Boolean(process.env.CI));

describe.runIf(runs)(`Redis wire compatibility with Python tooz ${version ?? '(missing)'}`, () => {
  let python: PythonPeer;
  let raw: Redis;
  const nodes: Coordinator[] = [];
  const pythons: string[] = [];

  beforeAll(async () => {
    python = new PythonPeer();
    raw = new Redis({ host: REDIS.host, port: REDIS.port, lazyConnect: true });
    await raw.connect();
  });

  afterAll(async () => {
    await python?.close();
    raw?.disconnect();
  });

  afterEach(async () => {
    for (const member of pythons.splice(0)) await python.call('stop', { member }).catch(() => undefined);
    for (const c of nodes.splice(0)) if (c.isStarted) await c.stop().catch(() => undefined);
  });

  /** A namespace for one test, its Node URL (with `query`) and its Python URL. */
  function backend(query = '') {
    const ns = testNamespace();
    return {
      ns,
      nodeUrl: `redis://127.0.0.1:6379/0?namespace=${ns}${query}`,
      pythonUrl: `redis://127.0.0.1:6379?namespace=${ns}&timeout=30`,
    };
  }

  async function startNode(url: string, memberId = uid('node')): Promise<Coordinator> {
    const c = getCoordinator(url, memberId);
    nodes.push(c);
    await c.start();
    return c;
  }

  async function startPython(url: string, member = uid('py')): Promise<string> {
    await python.call('start', { url, member });
    pythons.push(member);
    return member;
  }

  it('a Python member is seen by Node, with its capabilities decoded (and tooz 3.1.0’s empty default as {})', async () => {
    const { ns, nodeUrl, pythonUrl } = backend();
    const group = uid('group');
    const rich = await startPython(pythonUrl);
    const plain = await startPython(pythonUrl);
    await python.call('join_group_create', {
      member: rich,
      group,
      caps: {
        weight: 3,
        host: 'h1',
        tags: ['x', 'y'],
        n: null,
        f: 1.5,
        b: true,
        raw: pyBytes(Uint8Array.of(1, 2)),
        nested: { a: { b: [1, null, 'é'] } },
      },
    });
    await python.call('join_group_create', { member: plain, group });
    // tooz 3.1.0 writes "no capabilities" as an empty bin (c4 00), HEAD as nil: Node reads both as {}.
    expect((await raw.hgetBuffer(`${ns}_group:${group}`, plain))?.toString('hex')).toBe('c400');

    const c = await startNode(nodeUrl);
    expect(await c.getGroups()).toContain(group);
    expect(await c.getMembers(group)).toEqual(new Set([rich, plain]));
    const expected = {
      weight: 3,
      host: 'h1',
      tags: ['x', 'y'],
      n: null,
      f: 1.5,
      b: true,
      raw: Uint8Array.of(1, 2),
      nested: { a: { b: [1, null, 'é'] } },
    };
    expect(await c.getMemberCapabilities(group, rich)).toEqual(expected);
    expect(await c.getMemberCapabilities(group, plain)).toEqual({});
    expect(await c.getMembersWithCapabilities(group)).toEqual(
      new Map<string, unknown>([
        [rich, expected],
        [plain, {}],
      ]),
    );

    // Python leaving is seen by Node too.
    await python.call('leave_group', { member: plain, group });
    expect(await c.getMembers(group)).toEqual(new Set([rich]));
  });

  it('a Node member is seen by Python, which decodes every capability type Node writes', async () => {
    const { nodeUrl, pythonUrl } = backend();
    const group = uid('group');
    const rich = await startNode(nodeUrl);
    const plain = await startNode(nodeUrl);
    await rich.joinGroupCreate(group, {
      s: 'text',
      i: 42,
      neg: -7,
      f: 1.5,
      b: true,
      off: false,
      l: [1, 'two', false],
      m: { inner: { deep: [null, 2.25] } },
      raw: Uint8Array.of(0, 1, 255),
      n: null,
    });
    await plain.joinGroup(group);
    const py = await startPython(pythonUrl);
    expect(await python.call('get_members', { member: py, group })).toEqual([rich.memberId, plain.memberId].sort());
    expect(await python.call('capabilities_repr', { member: py, group, other: rich.memberId })).toBe(
      "{'s': 'text', 'i': 42, 'neg': -7, 'f': 1.5, 'b': True, 'off': False, 'l': [1, 'two', False], " +
        "'m': {'inner': {'deep': [None, 2.25]}}, 'raw': b'\\x00\\x01\\xff', 'n': None}",
    );
    // Node writes "none" as msgpack nil, as tooz HEAD does.
    expect(await python.call('capabilities_repr', { member: py, group, other: plain.memberId })).toBe('None');

    // An update is read by Python too; a Node member that left is gone for Python.
    await rich.updateCapabilities(group, { weight: 2 });
    expect(await python.call('capabilities_repr', { member: py, group, other: rich.memberId })).toBe("{'weight': 2}");
    await plain.leaveGroup(group);
    expect(await python.call('get_members', { member: py, group })).toEqual([rich.memberId]);
  });

  describe.each([
    { style: 'legacy', bytes: false, pythonName: 'a str name' },
    { style: 'legacy_bytes', bytes: true, pythonName: 'a bytes name' },
  ])('a lock with lock_key_style=$style (Python using $pythonName)', ({ style, bytes }) => {
    it('is refused on one side while the other holds it, in both directions', async () => {
      const { nodeUrl, pythonUrl } = backend(`&lock_key_style=${style}`);
      const name = uid('lock');
      const c = await startNode(nodeUrl);
      const py = await startPython(pythonUrl);
      const lock = c.getLock(name);

      // Node holds: the very key Python names for this lock holds Node's hold, and Python is refused.
      expect(await lock.acquire({ blocking: false })).toBe(true);
      const pythonKey = await python.call<string>('lock_key', { member: py, name, bytes });
      expect(await raw.exists(pythonKey)).toBe(1);
      expect(await python.call('lock_acquire', { member: py, name, bytes })).toBe(false);

      // Released by Node, Python takes it; now Node is refused.
      expect(await lock.release()).toBe(true);
      expect(await python.call('lock_acquire', { member: py, name, bytes })).toBe(true);
      expect(await lock.acquire({ blocking: false })).toBe(false);
      expect(await c.getLock(name).acquire({ blocking: true, timeoutMs: 200 })).toBe(false);

      // Released by Python, Node takes it again.
      expect(await python.call('lock_release', { member: py, name, bytes })).toBe(true);
      expect(await lock.acquire({ blocking: false })).toBe(true);
      expect(await python.call('lock_acquire', { member: py, name, bytes })).toBe(false);
      expect(await lock.release()).toBe(true);
    });
  });

  it('leadership held by Python is not taken by Node, and passes to Node once Python stops', async () => {
    const { nodeUrl, pythonUrl } = backend('&lock_key_style=legacy');
    const group = uid('group');
    const py = await startPython(pythonUrl);
    await python.call('join_group_create', { member: py, group });
    await python.call('watch_elected', { member: py, group });
    expect(await python.call('run_watchers', { member: py })).toEqual({ [group]: 1 });

    const c = await startNode(nodeUrl);
    const elected = vi.fn();
    await c.joinGroup(group);
    await c.watchElectedAsLeader(group, elected);
    await c.runWatchers();
    await c.runWatchers();
    expect(elected).not.toHaveBeenCalled();
    expect(c.isLeaderOf(group)).toBe(false);
    // Python still leads: its next election round keeps it (no second election, no loss).
    expect(await python.call('run_watchers', { member: py })).toEqual({ [group]: 1 });

    // tooz 3.1.0 gives leadership up only by stop() (stand_down is NotImplemented there).
    await python.call('stop', { member: py });
    pythons.splice(pythons.indexOf(py), 1);
    await c.runWatchers();
    expect(elected).toHaveBeenCalledTimes(1);
    expect(await c.getLeader(group)).toBe(c.memberId);
  });

  it('leadership held by Node is not taken by Python, and passes to Python once Node stands down', async () => {
    const { nodeUrl, pythonUrl } = backend('&lock_key_style=legacy');
    const group = uid('group');
    const c = await startNode(nodeUrl);
    const elected = vi.fn();
    await c.joinGroupCreate(group);
    await c.watchElectedAsLeader(group, elected);
    await c.runWatchers();
    expect(elected).toHaveBeenCalledTimes(1);

    const py = await startPython(pythonUrl);
    await python.call('join_group_create', { member: py, group });
    await python.call('watch_elected', { member: py, group });
    expect(await python.call('run_watchers', { member: py })).toEqual({ [group]: 0 });
    expect(await python.call('run_watchers', { member: py })).toEqual({ [group]: 0 });
    expect(await c.getLeader(group)).toBe(c.memberId);

    expect(await c.standDownGroupLeader(group)).toBe(true);
    expect(await python.call('run_watchers', { member: py })).toEqual({ [group]: 1 });
    // Python now leads: Node's next round does not take it back.
    await c.runWatchers();
    expect(elected).toHaveBeenCalledTimes(1);
  });

  it('Node and Python partitioners on one group agree on every owner (weights read across)', async () => {
    const { nodeUrl, pythonUrl } = backend();
    const group = uid('group');
    const c = await startNode(nodeUrl);
    const partitioner = await c.joinPartitionedGroup(group, { weight: 2 });
    const py = await startPython(pythonUrl);
    await python.call('join_partitioned_group', { member: py, group, weight: 1 });
    await c.runWatchers(); // Node's ring learns of the Python member
    const keys = Array.from({ length: 200 }, (_, i) => `object-${i}`);
    const pythonOwners = await python.call<string[][]>('members_for_objects', { member: py, group, keys });
    const nodeOwners = keys.map((key) => [...partitioner.membersForObject(key)].sort());
    expect(nodeOwners).toEqual(pythonOwners);
    // Both members own a share, the heavier Node member the larger one.
    const nodeShare = nodeOwners.filter(([owner]) => owner === c.memberId).length;
    expect(nodeShare).toBeGreaterThan(100);
    expect(nodeShare).toBeLessThan(200);
  });
});
