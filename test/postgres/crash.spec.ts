/**
 * A member whose process dies (SIGKILL: nothing runs in it) is gone at once:
 * its session's advisory key went with its connection, so its membership
 * stops counting, its locks are free and its leadership passes, long before
 * the membership timeout (30 s here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Coordinator, getCoordinator, LeaderElected } from '../../lib/index.js';
import { type CompiledLib, compileLib } from '../support/compiled-lib.js';
import { killChildCoordinators, spawnChildCoordinator } from '../support/child-coordinator.js';
import { POSTGRES, serverInUse } from '../support/servers.js';
import { isolatedUrl } from './support.js';

describe.skipIf(!(await serverInUse(POSTGRES)))('postgresql:// when a member process is killed', () => {
  let lib: CompiledLib;
  beforeAll(async () => {
    lib = await compileLib();
  }, 60_000);
  afterAll(async () => {
    await killChildCoordinators();
    await lib?.remove();
  });

  it('it is gone from getMembers, its lock is free and its leadership passes within one runWatchers() interval', async ({
    onTestFinished,
  }) => {
    const url = isolatedUrl({ timeout: '30' });
    const child = await spawnChildCoordinator(lib, url, 'doomed');
    await child.start();
    await child.joinGroupCreate('g');
    await child.watchElectedAsLeader('g');
    expect(await child.runWatchers()).toEqual(['LeaderElected']);
    expect(await child.acquire('l')).toBe(true);

    const survivor: Coordinator = getCoordinator(url, 'survivor');
    await survivor.start();
    onTestFinished(() => survivor.stop());
    await survivor.joinGroup('g');
    const elected: LeaderElected[] = [];
    survivor.events$.subscribe((event) => event instanceof LeaderElected && elected.push(event));
    await survivor.watchElectedAsLeader('g', () => 'elected');
    expect(await survivor.runWatchers()).toEqual([]);
    expect(await survivor.getMembers('g')).toEqual(new Set(['doomed', 'survivor']));
    expect(await survivor.getLeader('g')).toBe('doomed');
    expect(await survivor.getLock('l').acquire({ blocking: false })).toBe(false);

    await child.kill('SIGKILL');
    const killedAt = performance.now();
    // The server sees the socket close at once; give it up to one runWatchers() interval (1 s in the Nest module).
    let members = await survivor.getMembers('g');
    while (members.has('doomed') && performance.now() - killedAt < 1_000) members = await survivor.getMembers('g');
    expect(members).toEqual(new Set(['survivor']));
    expect(await survivor.runWatchers()).toEqual(['elected']);
    expect(elected.map((event) => event.memberId)).toEqual(['survivor']);
    expect(await survivor.getLeader('g')).toBe('survivor');
    expect(await survivor.getLock('l').acquire({ blocking: false })).toBe(true);
    expect(performance.now() - killedAt).toBeLessThan(1_000);
  });

  it("the head waiter learns of its holder's death without waiting for the poll (the death watch)", async ({
    onTestFinished,
  }) => {
    const url = isolatedUrl();
    const child = await spawnChildCoordinator(lib, url, 'doomed-holder');
    await child.start();
    expect(await child.acquire('l')).toBe(true);
    const waiter: Coordinator = getCoordinator(url, 'waiter');
    await waiter.start();
    onTestFinished(() => waiter.stop());
    // No poll at all: only the watch can tell this waiter that the holder died (nor does it beat).
    (waiter as unknown as { backend: { waiterRecheckMs: number } }).backend.waiterRecheckMs = 60_000;
    const lock = waiter.getLock('l');
    const acquired = lock.acquire({ timeoutMs: 10_000 }).then((ok) => ({ ok, at: performance.now() }));
    await new Promise((resolve) => setTimeout(resolve, 200)); // queued, and watching
    await child.kill('SIGKILL');
    const killedAt = performance.now();
    const { ok, at } = await acquired;
    expect(ok).toBe(true);
    // Generous: typically a few ms (bench/pg-failover.mjs); without the watch it would wait the 10 s out.
    expect(at - killedAt).toBeLessThan(2_000);
  });
});
