/**
 * Round trips, counted on the wire by a proxy (every simple Query and every
 * Sync that ends an extended-protocol exchange): the beat is one however
 * much is held, an uncontended acquire and release two, members with
 * capabilities one.
 */
import { describe, expect, it } from 'vitest';
import { getCoordinator, type Lock } from '../../lib/index.js';
import { POSTGRES, serverInUse } from '../support/servers.js';
import { isolatedUrl, RoundTripCounter } from './support.js';

describe.skipIf(!(await serverInUse(POSTGRES)))('postgresql:// round trips', () => {
  it('a beat is one round trip with 1 and with 100 held locks; acquire + release two; members with capabilities one', async ({
    onTestFinished,
  }) => {
    const proxy = await RoundTripCounter.start();
    onTestFinished(() => proxy.stop());
    const coordinator = getCoordinator(isolatedUrl({}, `postgresql://root@127.0.0.1:${proxy.port}/test`), 'counted');
    await coordinator.start();
    onTestFinished(() => coordinator.stop());
    await coordinator.joinGroupCreate('g', { role: 'worker' });
    await coordinator.watchElectedAsLeader('g', () => undefined);
    await coordinator.runWatchers();

    const counted = async (work: () => Promise<unknown>): Promise<number> => {
      const before = proxy.count;
      await work();
      return proxy.count - before;
    };
    const locks: Lock[] = [];
    const hold = async (count: number) => {
      while (locks.length < count) {
        const lock = coordinator.getLock(`lock-${locks.length}`);
        expect(await lock.acquire({ blocking: false })).toBe(true);
        locks.push(lock);
      }
    };

    await hold(1);
    expect(await counted(() => coordinator.heartbeat())).toBe(1);
    await hold(100);
    expect(await counted(() => coordinator.heartbeat())).toBe(1);

    const lock = coordinator.getLock('uncontended');
    expect(await counted(async () => expect((await lock.acquire()) && (await lock.release())).toBe(true))).toBe(2);
    let members = new Map<string, unknown>();
    expect(await counted(async () => (members = await coordinator.getMembersWithCapabilities('g')))).toBe(1);
    expect(members).toEqual(new Map([['counted', { role: 'worker' }]]));
  });
});
