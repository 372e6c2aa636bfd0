import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryCoordinator } from '../../lib/drivers/memory/index.js';
import { type Coordinator, getCoordinator } from '../../lib/index.js';

/** A member whose first group creation is followed at once by another member deleting the group. */
class RacedCoordinator extends MemoryCoordinator {
  races = 0;
  constructor(
    url: URL,
    memberId: string,
    private readonly deleter: Coordinator,
  ) {
    super(url, memberId);
  }

  protected override async backendCreateGroup(groupId: string): Promise<void> {
    await super.backendCreateGroup(groupId);
    if (this.races++ < 2) await this.deleter.deleteGroup(groupId);
  }
}

describe('joinGroupCreate', () => {
  const started: Coordinator[] = [];
  afterEach(async () => {
    for (const c of started.splice(0)) await c.stop();
  });

  it('retries when the group it created is deleted before it joins, and ends up joined', async () => {
    const url = `memory://join-create-${randomUUID()}`;
    const deleter = getCoordinator(url, 'deleter');
    await deleter.start();
    const raced = new RacedCoordinator(new URL(url), 'raced', deleter);
    await raced.start();
    started.push(deleter, raced);

    await raced.joinGroupCreate('g', { role: 'worker' });
    expect(raced.races).toBe(3); // created, deleted, twice; the third creation stood
    expect(await deleter.getMembers('g')).toEqual(new Set(['raced']));
    expect(await deleter.getMemberCapabilities('g', 'raced')).toEqual({ role: 'worker' });
    expect(raced.groups.has('g')).toBe(true);
  });
});
