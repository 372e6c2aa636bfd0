import { afterEach, describe, expect, it } from 'vitest';
import {
  CoordinationError,
  CoordinatorConnectionError,
  getCoordinator,
  LeadershipLost,
  LockLost,
  type Coordinator,
} from '../../lib/index.js';
import { POSTGRES, serverInUse } from '../support/servers.js';
import { adminClient, isolatedUrl } from './support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!(await serverInUse(POSTGRES)))('postgresql:// connections', () => {
  const started: Coordinator[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => (c.isStarted ? c.stop() : undefined)));
  });

  it('pg_terminate_backend: holds and leadership are reported lost, the session reconnects and rejoins at its next beat, nothing unhandled', async ({
    onTestFinished,
  }) => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    onTestFinished(() => void process.off('unhandledRejection', onUnhandled));
    const admin = await adminClient(onTestFinished);
    const url = isolatedUrl();
    const schema = new URL(url).searchParams.get('schema')!;
    const [victim, other] = await Promise.all(['victim', 'other'].map((id) => getCoordinator(url, id)));
    started.push(victim!, other!);
    await Promise.all([victim!.start(), other!.start()]);
    await victim!.joinGroupCreate('g');
    await victim!.watchElectedAsLeader('g', () => undefined);
    await victim!.runWatchers();
    const lock = victim!.getLock('l');
    expect(await lock.acquire()).toBe(true);
    const seen: unknown[] = [];
    victim!.events$.subscribe((event) => seen.push(event));

    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) AS killed FROM "${schema}".coordination_sessions WHERE member_id = 'victim'`,
    );
    expect(rows).toEqual([{ killed: true }]);
    await expect.poll(() => seen.some((event) => event instanceof LockLost), { timeout: 2_000 }).toBe(true);
    expect(seen).toContainEqual(new LockLost('l', 'victim'));
    expect(seen).toContainEqual(new LeadershipLost('g', 'victim'));
    expect(await lock.isStillOwner()).toBe(false);
    // Free for others at once: the advisory lock went with the backend.
    expect(await other!.getLock('l').acquire({ blocking: false })).toBe(true);

    // Reconnected (backoff from 50 ms), the victim beats and is a member again.
    await expect
      .poll(
        async () =>
          victim!.heartbeat().then(
            () => true,
            () => false,
          ),
        { timeout: 5_000 },
      )
      .toBe(true);
    expect(await other!.getMembers('g')).toEqual(new Set(['victim']));
    expect(await victim!.getLock('l2').acquire({ blocking: false })).toBe(true);
    await victim!.runWatchers();
    expect(victim!.isLeaderOf('g')).toBe(true);
    await sleep(50);
    expect(unhandled).toEqual([]);
  });

  it('start() against a server that is down fails within the connect timeout, naming no password', async () => {
    const refused = getCoordinator('postgresql://root:s3cr3t-pw@127.0.0.1:1/test', 'm');
    const error = await refused.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoordinatorConnectionError);
    expect(String((error as Error).message)).not.toContain('s3cr3t-pw');
    // A host that never answers: connect_timeout (seconds) bounds the wait.
    const silent = getCoordinator('postgresql://root:s3cr3t-pw@10.255.255.1:5432/test?connect_timeout=0.3', 'm');
    const startedAt = performance.now();
    const timedOut = await silent.start().catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(CoordinatorConnectionError);
    expect(performance.now() - startedAt).toBeLessThan(2_000);
    expect(String((timedOut as Error).message)).not.toContain('s3cr3t-pw');
  });

  it('URL options: unknown ones and unsafe identifiers are refused by getCoordinator', () => {
    expect(() => getCoordinator('postgresql://h/db?timout=1', 'm')).toThrow(CoordinationError);
    expect(() => getCoordinator('postgresql://h/db?schema=a;drop', 'm')).toThrow(/schema/);
    expect(() => getCoordinator('postgresql://h/db?table_prefix=X', 'm')).toThrow(/table_prefix/);
    expect(() => getCoordinator('postgresql://h/db?lock_key_style=md5', 'm')).toThrow(/lock_key_style/);
    expect(getCoordinator('postgres://h/db?sslmode=disable&application_name=a&timeout=2.5', 'm').requiresBeating).toBe(
      true,
    );
  });
});
