import { describe, expect, it, vi } from 'vitest';
import { drivers } from '../support/drivers.js';
import { expectPromptHandover, isSettled, sleep, uid, useCoordinators } from './harness.js';

describe.each(drivers)('shared locks on $name', (driver) => {
  const coordinators = useCoordinators(driver);

  it('test_get_shared_lock: a shared acquire and release are true, and withLock({ shared: true }) runs', async () => {
    const c = await coordinators.start();
    const lock = c.getLock(uid('lock'));
    expect(await lock.acquire({ shared: true })).toBe(true);
    expect(await lock.release()).toBe(true);
    const body = vi.fn(() => 'ran');
    expect(await lock.withLock(body, { shared: true })).toBe('ran');
    expect(body).toHaveBeenCalledTimes(1);
  });

  // Ours: not re-entrant, so the holding handle asking again for a shared hold gets false (tooz's file driver counted it twice).
  it('test_get_shared_lock_locking_same_lock_twice: the holding handle asking again gets false; one release ends the hold', async () => {
    const c = await coordinators.start();
    const lock = c.getLock(uid('lock'));
    expect(await lock.acquire({ shared: true })).toBe(true);
    expect(await lock.acquire({ shared: true })).toBe(false);
    expect(await lock.acquire({ shared: true, blocking: true })).toBe(false);
    expect(await lock.release()).toBe(true);
    expect(await lock.release()).toBe(false);
    expect(await lock.withLock(() => 'again', { shared: true })).toBe('again');
  });

  it('test_get_shared_lock_locking_two_lock: two coordinators hold the same lock shared together', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const name = uid('lock');
    const lock1 = c1.getLock(name);
    const lock2 = c2.getLock(name);
    expect(await lock1.acquire({ shared: true })).toBe(true);
    expect(await lock2.acquire({ shared: true })).toBe(true);
    expect(await lock1.release()).toBe(true);
    expect(await lock2.release()).toBe(true);
  });

  it('test_get_lock_locking_shared_and_exclusive: a shared hold refuses an exclusive acquire', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const name = uid('lock');
    const lock1 = c1.getLock(name);
    const lock2 = c2.getLock(name);
    expect(await lock1.acquire({ shared: true })).toBe(true);
    expect(await lock2.acquire({ blocking: false })).toBe(false);
    expect(await lock1.release()).toBe(true);
    expect(await lock2.release()).toBe(false);
  });

  it('test_get_lock_locking_exclusive_and_shared: an exclusive hold refuses a shared acquire', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const name = uid('lock');
    const lock1 = c1.getLock(name);
    const lock2 = c2.getLock(name);
    expect(await lock1.acquire()).toBe(true);
    expect(await lock2.acquire({ shared: true, blocking: false })).toBe(false);
    expect(await lock1.release()).toBe(true);
    expect(await lock2.release()).toBe(false);
  });

  // ---- Beyond tooz ---------------------------------------------------------

  it('many readers hold together, across handles and coordinators; a writer gets it when the last one leaves', async () => {
    const many = await coordinators.startMany(3);
    const name = uid('lock');
    const readers = [...many.map((c) => c.getLock(name)), many[0]!.getLock(name)];
    for (const reader of readers) expect(await reader.acquire({ shared: true, blocking: false })).toBe(true);
    const writer = (await coordinators.start()).getLock(name);
    expect(await writer.acquire({ blocking: false })).toBe(false);
    const waiting = writer.acquire({ timeoutMs: 5000 });
    for (const reader of readers.slice(0, -1)) {
      expect(await reader.release()).toBe(true);
      expect(await isSettled(waiting)).toBe(false);
    }
    expect(await readers.at(-1)!.release()).toBe(true);
    expect(await waiting).toBe(true);
  });

  it('a blocked writer learns within a few ms that the last reader left', async () => {
    const [c1, c2, c3] = await coordinators.startMany(3);
    const name = uid('lock');
    const early = c1.getLock(name);
    const last = c2.getLock(name);
    const writer = c3.getLock(name);
    await expectPromptHandover(async () => {
      expect(await early.acquire({ shared: true, blocking: false })).toBe(true);
      expect(await last.acquire({ shared: true, blocking: false })).toBe(true);
      return {
        wait: async () => {
          const waiting = writer.acquire({ timeoutMs: 5000 });
          expect(await early.release()).toBe(true); // one reader still holds it
          return waiting;
        },
        end: async () => expect(await last.release()).toBe(true),
        after: async () => expect(await writer.release()).toBe(true),
      };
    }, driver.promptMs);
  });

  it('blocked readers learn within a few ms that the writer released', async () => {
    const [c1, c2, c3] = await coordinators.startMany(3);
    const name = uid('lock');
    const writer = c1.getLock(name);
    const readers = [c2.getLock(name), c3.getLock(name)];
    await expectPromptHandover(async () => {
      expect(await writer.acquire({ blocking: false })).toBe(true);
      return {
        wait: async () => {
          const granted = await Promise.all(readers.map((r) => r.acquire({ shared: true, timeoutMs: 5000 })));
          return granted.every(Boolean);
        },
        end: async () => expect(await writer.release()).toBe(true),
        after: async () => {
          for (const reader of readers) expect(await reader.release()).toBe(true);
        },
      };
    }, driver.promptMs);
  });

  it('a writer excludes readers; waiting readers are all let in together when it releases', async () => {
    const many = await coordinators.startMany(3);
    const name = uid('lock');
    const [writer, reader1, reader2] = many.map((c) => c.getLock(name));
    expect(await writer!.acquire()).toBe(true);
    expect(await reader1!.acquire({ shared: true, blocking: false })).toBe(false);
    const r1 = reader1!.acquire({ shared: true, timeoutMs: 5000 });
    const r2 = reader2!.acquire({ shared: true, timeoutMs: 5000 });
    await sleep(30);
    expect(await isSettled(r1, 0)).toBe(false);
    expect(await isSettled(r2, 0)).toBe(false);
    await writer!.release();
    expect(await Promise.all([r1, r2])).toEqual([true, true]);
  });

  it('a waiting writer blocks later readers (FIFO): they queue behind it instead of starving it', async () => {
    const many = await coordinators.startMany(4);
    const name = uid('lock');
    const [reader1, writer, reader2, reader3] = many.map((c) => c.getLock(name));
    const order: string[] = [];
    expect(await reader1!.acquire({ shared: true })).toBe(true);

    const writing = writer!.acquire({ timeoutMs: 5000 }).then((ok) => (order.push('writer'), ok));
    await sleep(20);
    // A later reader neither slips in beside reader1 nor overtakes the writer.
    expect(await reader3!.acquire({ shared: true, blocking: false })).toBe(false);
    const reading = reader2!.acquire({ shared: true, timeoutMs: 5000 }).then((ok) => (order.push('reader2'), ok));
    await sleep(20);
    expect(await isSettled(writing, 0)).toBe(false);
    expect(await isSettled(reading, 0)).toBe(false);

    await reader1!.release();
    expect(await writing).toBe(true);
    expect(await isSettled(reading)).toBe(false);
    await writer!.release();
    expect(await reading).toBe(true);
    expect(order).toEqual(['writer', 'reader2']);
  });

  it('each shared hold gets its own fencing token, strictly increasing', async () => {
    const [c1, c2] = await coordinators.startMany(2);
    const name = uid('lock');
    const lock1 = c1.getLock(name);
    const lock2 = c2.getLock(name);
    const lock3 = c1.getLock(name);
    expect(await lock1.acquire({ shared: true })).toBe(true);
    expect(await lock2.acquire({ shared: true })).toBe(true);
    expect(lock2.fencingToken! > lock1.fencingToken!).toBe(true);
    await lock1.release();
    await lock2.release();
    expect(await lock3.acquire()).toBe(true);
    expect(lock3.fencingToken! > lock2.fencingToken!).toBe(true);
  });

  it('a shared hold refuses a second handle’s exclusive acquire on the same coordinator too', async () => {
    const c = await coordinators.start();
    const name = uid('lock');
    const reader = c.getLock(name);
    expect(await reader.acquire({ shared: true })).toBe(true);
    expect(await c.getLock(name).acquire({ blocking: false })).toBe(false);
    expect(await c.getLock(name).acquire({ shared: true, blocking: false })).toBe(true);
  });
});
