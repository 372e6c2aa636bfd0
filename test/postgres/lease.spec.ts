/**
 * A holder cut off from PostgreSQL by a silent network (no FIN, no RST: the
 * proxy drops every byte) stops believing within its lease, the beat
 * interval plus the statement timeout, counted from before its last
 * successful beat (docs/postgresql.md#how-long-a-cut-off-holder-believes).
 * Without a lease it believed until the client-side query timeout dropped
 * the connection, statement_timeout + 5 s after its first unanswered beat.
 */
import { describe, expect, it } from 'vitest';
import { getCoordinator, LeadershipLost, LockLost } from '../../lib/index.js';
import { POSTGRES, serverInUse } from '../support/servers.js';
import { isolatedUrl, RoundTripCounter } from './support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!(await serverInUse(POSTGRES)))('postgresql:// lease of a holder whose network goes silent', () => {
  it('isHeld turns false and LockLost / LeadershipLost fire within the lease; a live network keeps renewing it', async ({
    onTestFinished,
  }) => {
    const proxy = await RoundTripCounter.start();
    onTestFinished(() => proxy.stop());
    // Beat interval 1 s (half the 2 s timeout) + statement timeout 1 s: a lease of 2 s.
    const url = isolatedUrl({ timeout: '2', statement_timeout: '1' }, `postgresql://root@127.0.0.1:${proxy.port}/test`);
    const holder = getCoordinator(url, 'holder');
    await holder.start({ startHeart: true });
    onTestFinished(() => holder.stop().catch(() => undefined));
    const lost: { event: unknown; at: number }[] = [];
    holder.events$.subscribe((event) => {
      if (event instanceof LockLost || event instanceof LeadershipLost) lost.push({ event, at: performance.now() });
    });
    await holder.joinGroupCreate('g');
    await holder.watchElectedAsLeader('g', () => undefined);
    await holder.runWatchers();
    const lock = holder.getLock('l');
    expect(await lock.acquire({ blocking: false })).toBe(true);
    expect(holder.isLeaderOf('g')).toBe(true);

    // Longer than a lease with the network up: the heart's beats renew it.
    await sleep(3_000);
    expect(lost).toEqual([]);
    expect(lock.isHeld).toBe(true);

    proxy.silent = true;
    const silentAt = performance.now();
    await expect.poll(() => lost.length, { timeout: 6_000, interval: 20 }).toBe(2);
    // The last beat that renewed started at most one beat interval (1 s) before the silence, so ≤ 2 s after it.
    expect(Math.max(...lost.map(({ at }) => at)) - silentAt).toBeLessThan(2_000 + 300);
    expect(lost.map(({ event }) => event)).toEqual(
      expect.arrayContaining([new LockLost('l', 'holder'), new LeadershipLost('g', 'holder')]),
    );
    expect(lock.isHeld).toBe(false);
    expect(holder.isLeaderOf('g')).toBe(false);
    proxy.silent = false; // let stop() through
  }, 20_000);
});
