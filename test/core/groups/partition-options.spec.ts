/**
 * `joinPartitionedGroup` options: a weight or partition count the ring cannot
 * place is refused before anything is joined, and weight 0 owns nothing, as
 * in tooz (docs/api.md#hash-ring-and-partitioner).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Coordinator, getCoordinator } from '../../../lib/index.js';
import { uid } from '../../support/drivers.js';

describe('joinPartitionedGroup options', () => {
  const started: Coordinator[] = [];
  afterEach(async () => {
    for (const c of started.splice(0)) await c.stop();
  });

  it('refuses a weight or partition count the ring cannot place, before joining anything', async () => {
    const c = getCoordinator(`memory://${uid('partition-options')}`, uid('member'));
    await c.start();
    started.push(c);
    const g = uid('group');
    for (const weight of [-1, 1.5, Number.NaN, '2' as unknown as number]) {
      expect(() => c.joinPartitionedGroup(g, { weight })).toThrow(TypeError);
    }
    for (const partitions of [0, -3, 2.5]) {
      expect(() => c.joinPartitionedGroup(g, { partitions })).toThrow(/partitions/);
    }
    expect(await c.getGroups()).not.toContain(g);
  });

  it('weight 0 joins with no ring positions, as in tooz: the member owns nothing', async () => {
    const url = `memory://${uid('partition-options')}`;
    const [zero, one] = [getCoordinator(url, 'zero'), getCoordinator(url, 'one')];
    await zero.start();
    await one.start();
    started.push(zero, one);
    const g = uid('group');
    await one.joinPartitionedGroup(g);
    const p = await zero.joinPartitionedGroup(g, { weight: 0 });
    expect(p.ring.nodes.get('zero')).toBe(0);
    for (let i = 0; i < 50; i++) expect(p.membersForObject(`item-${i}`)).toEqual(new Set(['one']));
  });
});
