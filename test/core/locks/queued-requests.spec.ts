/**
 * A queued acquire whose grant or withdrawal went astray never holds the lock
 * for nobody: a grant found by the beat is the waiter's, and a request whose
 * withdrawal failed leaves the queue at the next beat
 * (docs/semantics.md#locks, #requests-cut-half-way).
 */
import { describe, expect, it } from 'vitest';
import { drivers, postgresDriver, redisDriver, testBackend, uid } from '../../support/drivers.js';
import { sleep } from '../../support/failing-coordinators.js';
import { failing, failingPostgresDriver, failingRedisDriver } from '../../support/failing-driver.js';
import { useCoordinators } from '../support.js';

describe.skipIf(!drivers.includes(redisDriver))('A grant found by the beat (failing redis)', () => {
  const start = useCoordinators();

  // Guards against a waiter whose grant the beat found (its push missed) and
  // that the driver did not forget: its wake timer later asked for the lock
  // again for nobody, and held it after the core had released it.
  it('released within a second, leaves the lock free', async () => {
    const backend = testBackend(failingRedisDriver);
    const url = backend.url({ lock_timeout: 10, timeout: 30 });
    const [holder, waiter, other] = [await start(url), await start(url), await start(url)];
    const name = backend.name('lock');
    const held = holder.getLock(name);
    expect(await held.acquire()).toBe(true);

    // The grant's pub/sub message is lost on the wire: the push never reaches the core's waiters.
    failing(waiter).faults.missPushes();
    const lock = waiter.getLock(name);
    let settled = false;
    const acquiring = lock.acquire({ timeoutMs: 5_000 }).finally(() => (settled = true));
    await sleep(50); // queued: its wake timer is armed for 1 s from now
    expect(await held.release()).toBe(true);
    await sleep(50);
    expect(settled).toBe(false); // granted in Redis, but nobody told the waiter
    await waiter.heartbeat(); // finds the grant
    expect(await acquiring).toBe(true);
    expect(await lock.release()).toBe(true);

    await sleep(1_300); // past the wake timer
    expect(await other.getLock(name).acquire({ blocking: false })).toBe(true);
  });
});

describe.skipIf(!drivers.includes(postgresDriver))(
  'A queued request whose withdrawal failed (failing postgresql)',
  () => {
    const start = useCoordinators();

    // Guards against a let-go of a request still queued that only looked at
    // holds: the queue row stayed, and every later acquire of the lock waited
    // behind a request nobody would ever take.
    it('does not block the lock after the next beat', async () => {
      const url = testBackend(failingPostgresDriver).url();
      const [holder, waiter, other] = [await start(url), await start(url), await start(url)];
      const name = uid('lock');
      const held = holder.getLock(name);
      expect(await held.acquire()).toBe(true);

      failing(waiter).faults.fail('withdraw', new Error('x'));
      expect(await waiter.getLock(name).acquire({ timeoutMs: 200 })).toBe(false);
      await waiter.heartbeat(); // lets the request go: it must leave the queue
      expect(await held.release()).toBe(true);

      // A let-go that looked only at holds left the queue row: the release handed the lock to it, and the waiter's
      // session took it for nobody (until a later beat, which this test never sends).
      const lock = other.getLock(name);
      const deadline = performance.now() + 1_500;
      let got = await lock.acquire({ blocking: false });
      while (!got && performance.now() < deadline) {
        await sleep(50);
        got = await lock.acquire({ blocking: false });
      }
      expect(got).toBe(true);
    });
  },
);
