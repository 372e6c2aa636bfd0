import { describe, expect, it } from 'vitest';
import { type Coordinator, HashRing, Partitioner } from '../../lib/index.js';
import { drivers } from '../support/drivers.js';
import { uid, useCoordinators } from './harness.js';

/** How many members a partitioner's ring holds: replicas are capped at the members (tooz's `min(replicas, len)`). */
function ringMembers(p: Partitioner): Set<string> {
  return p.membersForObject('any object', { replicas: 1_000 });
}

/** Keys to compare placements on. */
const KEYS = Array.from({ length: 200 }, (_, i) => `object-${i}`);

describe.each(drivers)('partitioner on $name', (driver) => {
  const coordinators = useCoordinators(driver);

  /** tooz's `_add_members`: n new coordinators join the partitioned group, then `main` runs its watchers. */
  async function addMembers(main: Coordinator, g: string, n: number, weight = 1) {
    const added = await coordinators.startMany(n);
    const partitioners: Partitioner[] = [];
    for (const c of added) partitioners.push(await c.joinPartitionedGroup(g, { weight }));
    await main.runWatchers();
    return { added, partitioners };
  }

  /** tooz's `_remove_members`: stop them, then `main` runs its watchers. */
  async function removeMembers(main: Coordinator, leaving: Coordinator[]) {
    for (const c of leaving) await c.stop();
    await main.runWatchers();
  }

  it('test_join_partitioned_group: joins the group and returns its partitioner', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    const p = await c.joinPartitionedGroup(g);
    expect(p).toBeInstanceOf(Partitioner);
    expect(p.groupId).toBe(g);
    expect(await c.getMembers(g)).toEqual(new Set([c.memberId]));
    expect(await c.getMemberCapabilities(g, c.memberId)).toEqual({ weight: 1 });
    await c.leavePartitionedGroup(p);
  });

  // Ours: `len(p.ring.nodes)` is read as the members the partitioner places objects on.
  it('test_hashring_size: the ring follows members joining and stopping, through runWatchers()', async () => {
    const c1 = await coordinators.start();
    const g = uid('group');
    const p = await c1.joinPartitionedGroup(g);
    expect(ringMembers(p).size).toBe(1);
    const first = await addMembers(c1, g, 1);
    expect(ringMembers(p).size).toBe(2);
    const more = await addMembers(c1, g, 2);
    expect(ringMembers(p)).toEqual(new Set([c1, ...first.added, ...more.added].map((c) => c.memberId)));
    await removeMembers(c1, [...first.added, ...more.added]);
    expect(ringMembers(p)).toEqual(new Set([c1.memberId]));
    await p.stop();
  });

  // Ours: `p.ring.nodes.values()` is checked by placing objects exactly as a HashRing with those weights does.
  it('test_hashring_weight: members are weighted by their weight capability, on every partitioner', async () => {
    const c1 = await coordinators.start();
    const g = uid('group');
    const p = await c1.joinPartitionedGroup(g, { weight: 5 });
    expect(await c1.getMemberCapabilities(g, c1.memberId)).toEqual({ weight: 5 });
    expect([...p.ring.nodes.values()]).toEqual([5]);

    const { added, partitioners } = await addMembers(c1, g, 1, 10);
    expect(p.ring.nodes).toEqual(
      new Map([
        [c1.memberId, 5],
        [added[0]!.memberId, 10],
      ]),
    );
    expect(partitioners[0]!.ring.nodes).toEqual(p.ring.nodes);
    const reference = new HashRing([], { partitions: 32 });
    reference.addNode(c1.memberId, 5);
    reference.addNode(added[0]!.memberId, 10);
    for (const key of KEYS) {
      expect(p.membersForObject(key)).toEqual(reference.getNodes(key));
      // The newcomer read the existing member's weight from its capabilities.
      expect(partitioners[0]!.membersForObject(key)).toEqual(reference.getNodes(key));
    }
    // Weights matter: the same members with equal weights place some object differently.
    const unweighted = new HashRing([c1.memberId, added[0]!.memberId], { partitions: 32 });
    expect(KEYS.some((key) => [...unweighted.getNodes(key)][0] !== [...reference.getNodes(key)][0])).toBe(true);
    await p.stop();
  });

  // Ours: `_hooks_join_group` / `_hooks_leave_group` are read through watcherCount.
  it('test_stop: stopping the partitioner removes its join and leave watchers', async () => {
    const c = await coordinators.start();
    const g = uid('group');
    const p = await c.joinPartitionedGroup(g);
    expect(c.watcherCount('join', g)).toBe(1);
    expect(c.watcherCount('leave', g)).toBe(1);
    await p.stop();
    expect(c.watcherCount('join', g)).toBe(0);
    expect(c.watcherCount('leave', g)).toBe(0);
  });

  it('test_members_of_object_and_others: an object belongs to exactly one member, consistently', async () => {
    const c1 = await coordinators.start();
    const g = uid('group');
    const p = await c1.joinPartitionedGroup(g);
    const { added, partitioners } = await addMembers(c1, g, 3);
    for (const c of added) await c.runWatchers(); // earlier joiners learn of later ones
    const o = 'чупакабра';
    const owners = p.membersForObject(o);
    expect(owners.size).toBe(1);
    const x = [...owners][0]!;
    expect(p.belongsToMember(o, x)).toBe(true);
    expect(p.belongsToMember(o, 'chupacabra')).toBe(false);
    expect(p.belongsToSelf(o)).toBe(x === c1.memberId);
    // Every member's partitioner, once current, agrees on the owner.
    for (const other of partitioners) expect(other.membersForObject(o)).toEqual(owners);
    await p.stop();
  });

  // ---- Beyond tooz ---------------------------------------------------------

  it('objects are placed by toCoordinationKey() when they have one, else by String(obj); ignoreMembers and replicas apply', async () => {
    const c1 = await coordinators.start();
    const g = uid('group');
    const p = await c1.joinPartitionedGroup(g);
    const { added } = await addMembers(c1, g, 2);
    const byKey = { toCoordinationKey: () => 'the-key' };
    const byString = { toString: () => 'the-key' };
    expect(p.membersForObject(byKey)).toEqual(p.membersForObject('the-key'));
    expect(p.membersForObject(byString)).toEqual(p.membersForObject('the-key'));
    expect(p.membersForObject('the-key', { replicas: 2 }).size).toBe(2);
    const owner = [...p.membersForObject('the-key')][0]!;
    const elsewhere = p.membersForObject('the-key', { ignoreMembers: [owner] });
    expect(elsewhere.size).toBe(1);
    expect(elsewhere.has(owner)).toBe(false);
    const everyone = [c1.memberId, ...added.map((c) => c.memberId)];
    expect(p.membersForObject('the-key', { ignoreMembers: everyone })).toEqual(new Set());
    await p.stop();
  });

  it('leavePartitionedGroup leaves the group and stops following it; queries answer from the last ring', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const g = uid('group');
    const p1 = await c1.joinPartitionedGroup(g);
    await c2.joinPartitionedGroup(g);
    await c1.runWatchers();
    expect(ringMembers(p1)).toEqual(new Set([c1.memberId, c2.memberId]));
    await c1.leavePartitionedGroup(p1);
    expect(await c2.getMembers(g)).toEqual(new Set([c2.memberId]));
    expect(c1.watcherCount('join', g)).toBe(0);
    expect(c1.watcherCount('leave', g)).toBe(0);
    await c2.stop();
    // No longer following: the ring is what it was.
    expect(ringMembers(p1)).toEqual(new Set([c1.memberId, c2.memberId]));
  });
});
