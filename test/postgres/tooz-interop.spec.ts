/**
 * With `lock_key_style=tooz`, a Node coordinator and Python tooz (Debian's
 * python3-tooz 3.1.0 with psycopg2, on the system Python) take the same
 * advisory lock for the same name and exclude each other.
 */
import { describe, expect, it } from 'vitest';
import { getCoordinator } from '../../lib/index.js';
import { POSTGRES, serverInUse } from '../support/servers.js';
import { BASE_URL, hasPythonTooz, isolatedUrl, toozHoldLock, toozTryLock } from './support.js';

const runs = (await serverInUse(POSTGRES)) && (Boolean(process.env.CI) || hasPythonTooz());

describe.skipIf(!runs)('postgresql:// lock interop with Python tooz', () => {
  it('lock_key_style=tooz: each side is refused while the other holds the lock, and takes it once released', async ({
    onTestFinished,
  }) => {
    const name = `interop-${process.pid}-${Date.now()}`;
    const node = getCoordinator(isolatedUrl({ lock_key_style: 'tooz' }), 'node');
    await node.start();
    onTestFinished(() => node.stop());
    const lock = node.getLock(name);

    expect(await lock.acquire({ blocking: false })).toBe(true);
    expect(toozTryLock(BASE_URL, name)).toBe(false);
    expect(await lock.release()).toBe(true);
    expect(toozTryLock(BASE_URL, name)).toBe(true);

    const python = await toozHoldLock(BASE_URL, name);
    expect(await lock.acquire({ blocking: false })).toBe(false);
    // A blocked Node waiter is not told when Python releases: it finds out at its next look (every 500 ms).
    const waiting = lock.acquire({ timeoutMs: 5_000 });
    await python.release();
    expect(await waiting).toBe(true);
    expect(await lock.release()).toBe(true);
  });

  it('lock_key_style=wide (the default) is another key space: no contention with tooz', async ({ onTestFinished }) => {
    const name = `interop-wide-${process.pid}-${Date.now()}`;
    const node = getCoordinator(isolatedUrl(), 'node');
    await node.start();
    onTestFinished(() => node.stop());
    expect(await node.getLock(name).acquire({ blocking: false })).toBe(true);
    expect(toozTryLock(BASE_URL, name)).toBe(true);
  });
});
