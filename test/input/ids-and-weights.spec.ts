import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertWeight,
  type Coordinator,
  getCoordinator,
  HashRing,
  MAX_WEIGHT,
  Partitioner,
  type PartitionerHost,
} from '../../lib/core-entry.js';

const keys = Array.from({ length: 500 }, (_, i) => `key-${i}`);

describe('ids with a lone surrogate are refused where they enter', () => {
  const url = () => `memory://ids-${randomUUID()}`;

  it.each(['\uD800', 'a\uDC00', 'x\uD83D'])('member id %j → TypeError naming memberId', (id) => {
    expect(() => getCoordinator(url(), id)).toThrow(TypeError);
    expect(() => getCoordinator(url(), id)).toThrow(/memberId .* is not a well-formed string/);
  });

  it('group ids, member ids read and lock names too, synchronously', async () => {
    const c = getCoordinator(url(), 'm');
    await c.start();
    try {
      expect(() => c.joinGroupCreate('g\uD800')).toThrow(/groupId .* is not a well-formed string/);
      expect(() => c.getMemberCapabilities('g', '\uDFFF')).toThrow(/memberId/);
      expect(() => c.getLock('\uD800lock')).toThrow(/lock name/);
    } finally {
      await c.stop();
    }
  });

  it('surrogate pairs are fine, and everyone still gets a partitioner', async () => {
    const shared = url();
    const made = ['🦄', 'plain'].map((id) => getCoordinator(shared, id));
    try {
      for (const c of made) await c.start();
      const unicorn = await made[0].joinPartitionedGroup('g');
      const plain = await made[1].joinPartitionedGroup('g');
      await made[0].runWatchers();
      expect(new Set(plain.ring.nodes.keys())).toEqual(new Set(['🦄', 'plain']));
      expect(new Set(unicorn.ring.nodes.keys())).toEqual(new Set(['🦄', 'plain']));
    } finally {
      for (const c of made) if (c.isStarted) await c.stop();
    }
  });

  it('a peer id the ring refuses (written by another client) is left off the ring, not fatal to the group', async () => {
    const host: PartitionerHost = {
      memberId: 'me',
      getMemberCapabilities: async () => ({}),
      watchJoinGroup: async () => undefined,
      watchLeaveGroup: async () => undefined,
      unwatchJoinGroup: async () => undefined,
      unwatchLeaveGroup: async () => undefined,
      getMembersWithCapabilities: async () =>
        new Map<string, unknown>([
          ['me', { weight: 1 }],
          ['bad\uD800', { weight: 1 }],
        ]),
    };
    const p = await Partitioner.create(host, 'g');
    expect([...p.ring.nodes.keys()]).toEqual(['me']);
    expect(p.belongsToSelf('anything')).toBe(true);
  });

  it('HashRing refuses such a node name with a clear TypeError', () => {
    expect(() => new HashRing(['ok', '\uD800'])).toThrow(/node "\\ud800" is not a well-formed string/);
  });
});

describe('weights', () => {
  it('assertWeight takes non-negative integers and names anything else', () => {
    for (const ok of [0, 1, 7, MAX_WEIGHT]) expect(() => assertWeight(ok)).not.toThrow();
    expect(MAX_WEIGHT).toBe(10_000);
    for (const [bad, shown] of [
      [-1, '-1'],
      [MAX_WEIGHT + 1, '10001'],
      [2 ** 40, '1099511627776'],
      [1.5, '1.5'],
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      ['2', '"2"'],
      [null, 'null'],
      [undefined, 'undefined'],
    ] as const) {
      expect(() => assertWeight(bad)).toThrow(TypeError);
      expect(() => assertWeight(bad)).toThrow(`weight must be a non-negative integer up to 10000, got ${shown}`);
    }
  });

  it('weight 0 gives a node no points, as in tooz: known, but owning nothing', () => {
    const ring = new HashRing(['a', 'b']);
    ring.addNode('zero', 0);
    expect(ring.nodes.get('zero')).toBe(0);
    expect(ring.size).toBe(64);
    const plain = new HashRing(['a', 'b']);
    for (const key of keys) {
      expect(ring.getNodes(key)).toEqual(plain.getNodes(key));
      // tooz would spin for ever here (3 candidates, 2 with points); we stop after one lap.
      expect(ring.getNodes(key, { replicas: 3 })).toEqual(new Set(['a', 'b']));
    }
    ring.removeNode('zero');
    expect(ring.nodes.has('zero')).toBe(false);
    expect(ring.size).toBe(64);
    expect(new HashRing([]).getNodes('x')).toEqual(new Set());
    const zeros = new HashRing([]);
    zeros.addNodes(['z1', 'z2'], 0);
    expect(zeros.getNodes('x', { replicas: 2 })).toEqual(new Set());
  });

  it('a bad weight is refused by the ring without touching it', () => {
    const ring = new HashRing(['a']);
    expect(() => ring.addNode('b', -1)).toThrow(/got -1/);
    expect(() => ring.addNodes(['b', 'c'], 0.5)).toThrow(/got 0.5/);
    expect([...ring.nodes.keys()]).toEqual(['a']);
  });

  describe("the partitioner reads a peer's weight capability", () => {
    const made: Coordinator[] = [];
    afterEach(async () => {
      for (const c of made.splice(0)) if (c.isStarted) await c.stop().catch(() => undefined);
    });

    it('0 → on the ring with no points; anything assertWeight refuses → 1 (tooz default)', async () => {
      const url = `memory://weights-${randomUUID()}`;
      const peers: Record<string, unknown> = {
        zero: { weight: 0 },
        three: { weight: 3 },
        negative: { weight: -3 },
        fraction: { weight: 1.5 },
        text: { weight: '4' },
        huge: { weight: Number.MAX_VALUE },
        'past-max': { weight: 2 ** 40 },
        none: {},
      };
      for (const [id, caps] of Object.entries(peers)) {
        const c = getCoordinator(url, id);
        made.push(c);
        await c.start();
        await c.joinGroupCreate('g', caps as never);
      }
      const me = getCoordinator(url, 'me');
      made.push(me);
      await me.start();
      const p = await me.joinPartitionedGroup('g', { partitions: 4 });
      expect(Object.fromEntries(p.ring.nodes)).toEqual({
        me: 1,
        zero: 0,
        three: 3,
        negative: 1,
        fraction: 1,
        text: 1,
        huge: 1,
        'past-max': 1,
        none: 1,
      });
      expect(p.ring.size).toBe(4 * 10);
      for (const key of keys) expect(p.belongsToMember(key, 'zero')).toBe(false);
    });
  });
});
