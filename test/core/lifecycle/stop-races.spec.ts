/**
 * What finishes while `stop()` runs is undone, never believed: an acquire or an
 * election in flight leaves nothing held (docs/semantics.md#starting-and-stopping).
 */
import { describe, expect, it } from 'vitest';
import { uid, useMemory } from '../support.js';

describe('stop() racing with in-flight operations', () => {
  const mem = useMemory();

  it('a non-blocking acquire in flight when stop() starts resolves false and its grant is given straight back', async () => {
    const [c1, c2] = [await mem.start(), await mem.start()];
    const name = uid('lock');
    const lock = c1.getLock(name);
    // Issued first, so it is accepted and its request is on its way when stop() begins (no catch: a refusal
    // by stop() would reject it, and this test would not be about the race).
    const acquiring = lock.acquire({ blocking: false });
    const stopping = c1.stop(); // the backend grants the request before acquire() hears of it
    expect(await acquiring).toBe(false);
    await stopping;
    expect(c1.isStarted).toBe(false);
    expect(lock.isHeld).toBe(false);
    expect(await c2.getLock(name).acquire({ blocking: false })).toBe(true);
  });

  it('a blocking acquire granted in the tick stop() starts is handed back', async () => {
    const [c1, c2, c3] = [await mem.start(), await mem.start(), await mem.start()];
    const name = uid('lock');
    const held = c2.getLock(name);
    expect(await held.acquire()).toBe(true);
    const waiting = c1.getLock(name);
    const acquiring = waiting.acquire(); // queued behind c2
    const releasing = held.release(); // grants c1's waiter in the backend, synchronously
    const stopping = c1.stop(); // runs its heldLocks loop before acquireHold's continuation
    await Promise.all([releasing, stopping]);
    const got = await acquiring;
    expect(c1.isStarted).toBe(false);
    expect({ got, heldAfterStop: waiting.isHeld }).toEqual({ got: false, heldAfterStop: false });
    expect(await c3.getLock(name).acquire({ blocking: false })).toBe(true);
  });

  it('an election step in flight when stop() starts leaves no leadership behind', async () => {
    const [c1, c2] = [await mem.start(), await mem.start()];
    const g = uid('g');
    await c1.createGroup(g);
    const elected: unknown[] = [];
    await c1.watchElectedAsLeader(g, (e) => elected.push(e));
    const running = c1.runWatchers();
    await c1.stop();
    await running.catch(() => undefined);
    expect(c1.isStarted).toBe(false);
    // stop() "gives up every leadership": nobody should lead g now.
    expect(await c2.getLeader(g)).toBeNull();
  });
});
