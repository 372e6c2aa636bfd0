/**
 * `joinGroupCreate` retries the create/join race until it is joined
 * (docs/semantics.md#evictions-and-data-loss, last point).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Coordinator, getCoordinator } from '../../../lib/index.js';
import { failing, failingUrl } from '../../support/failing-driver.js';

describe('joinGroupCreate', () => {
  const started: Coordinator[] = [];
  afterEach(async () => {
    for (const c of started.splice(0)) await c.stop();
  });

  it('retries when the group it created is deleted before it joins, and ends up joined', async () => {
    // A member whose first group creations are each followed at once by another member deleting the group.
    const url = failingUrl();
    const deleter = getCoordinator(url, 'deleter');
    await deleter.start();
    const raced = getCoordinator(url, 'raced');
    await raced.start();
    started.push(deleter, raced);
    let races = 0;
    failing(raced).faults.after('createGroup', async (groupId: string) => {
      if (races++ < 2) await deleter.deleteGroup(groupId);
    });

    await raced.joinGroupCreate('g', { role: 'worker' });
    expect(races).toBe(3); // created, deleted, twice; the third creation stood
    expect(await deleter.getMembers('g')).toEqual(new Set(['raced']));
    expect(await deleter.getMemberCapabilities('g', 'raced')).toEqual({ role: 'worker' });
    expect(raced.groups.has('g')).toBe(true);
  });
});
