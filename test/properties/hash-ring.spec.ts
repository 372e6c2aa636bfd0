import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashRing } from '../../lib/index.js';

// What makes a ring consistent, over random node sets, weights and keys.
/** No lone surrogates: such a string has no UTF-8 form (tooz could not encode it either). */
const wellFormed = (s: string): boolean => !/\p{Cs}/u.test(s);
const nodeName = fc.string({ minLength: 1, maxLength: 12 }).filter(wellFormed);
const nodes = fc.uniqueArray(nodeName, { minLength: 1, maxLength: 8 });
const keys = fc.array(fc.string({ maxLength: 16 }).filter(wellFormed), { minLength: 1, maxLength: 60 });

describe('HashRing properties', () => {
  it('getNodes returns min(replicas, candidates) distinct members, never an ignored one', () => {
    fc.assert(
      fc.property(nodes, keys, fc.integer({ min: 1, max: 10 }), fc.nat(), (names, data, replicas, ignoreSeed) => {
        const ring = new HashRing(names, { partitions: 8 });
        const ignored = names.filter((_, i) => (ignoreSeed >> i) & 1);
        const candidates = names.filter((n) => !ignored.includes(n));
        for (const key of data) {
          const owners = ring.getNodes(key, { replicas, ignoreNodes: ignored });
          expect(owners.size).toBe(Math.min(replicas, candidates.length));
          for (const owner of owners) expect(candidates).toContain(owner);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('adding a node moves keys only onto it; removing it moves back only its keys', () => {
    fc.assert(
      fc.property(nodes, nodeName, fc.integer({ min: 1, max: 4 }), keys, (names, extra, weight, data) => {
        fc.pre(!names.includes(extra));
        const ring = new HashRing(names, { partitions: 16 });
        const before = data.map((key) => [...ring.getNodes(key)][0]);
        ring.addNode(extra, weight);
        const during = data.map((key) => [...ring.getNodes(key)][0]);
        data.forEach((_, i) => {
          if (during[i] !== before[i]) expect(during[i]).toBe(extra);
        });
        ring.removeNode(extra);
        expect(data.map((key) => [...ring.getNodes(key)][0])).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });

  it('size is partitions × the sum of weights', () => {
    fc.assert(
      fc.property(
        nodes,
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 5 }),
        (names, partitions, weight) => {
          const ring = new HashRing([], { partitions });
          ring.addNodes(names, weight);
          expect(ring.size).toBe(partitions * weight * names.length);
        },
      ),
    );
  });
});
