/**
 * `acquire({ signal, timeoutMs })`: an abort withdraws a blocked acquire, a
 * timeout beyond a timer's range means no bound, bad values are a `TypeError`
 * (docs/semantics.md#locks, docs/semantics.md#calls-and-errors).
 */
import { describe, expect, it } from 'vitest';
import { sleep, uid, useMemory } from '../support.js';

describe('acquire options', () => {
  const mem = useMemory();

  it('an aborted signal withdraws a blocked acquire (false) and the next waiter is served on release', async () => {
    const [a, b] = [await mem.start(), await mem.start()];
    const name = uid('lock');
    const holder = a.getLock(name);
    expect(await holder.acquire()).toBe(true);
    const controller = new AbortController();
    const withdrawn = b.getLock(name).acquire({ signal: controller.signal });
    const next = b.getLock(name);
    const served = next.acquire();
    controller.abort();
    expect(await withdrawn).toBe(false);
    expect(await holder.release()).toBe(true);
    expect(await served).toBe(true);
    expect(next.isHeld).toBe(true);
  });

  it('an already aborted signal gives false at once', async () => {
    const c = await mem.start();
    expect(await c.getLock(uid('lock')).acquire({ signal: AbortSignal.abort() })).toBe(false);
  });

  it('timeoutMs beyond a timer range (Infinity) waits instead of giving up after 1 ms', async () => {
    const c = await mem.start();
    const name = uid('lock');
    const holder = c.getLock(name);
    expect(await holder.acquire()).toBe(true);
    let settled = false;
    const waiting = c
      .getLock(name)
      .acquire({ timeoutMs: Infinity })
      .then((ok) => ((settled = true), ok));
    await sleep(30);
    expect(settled).toBe(false);
    await holder.release();
    expect(await waiting).toBe(true);
  });

  it('a bad timeoutMs or signal is a TypeError, thrown synchronously', () => {
    const lock = mem.create().getLock(uid('lock'));
    expect(() => lock.acquire({ timeoutMs: -1 })).toThrow(TypeError);
    expect(() => lock.acquire({ signal: 'stop' as never })).toThrow(TypeError);
  });
});
