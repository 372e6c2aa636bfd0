import { randomUUID } from 'node:crypto';
import { setImmediate as flush } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Coordinator, getCoordinator, type Lock } from '../../lib/index.js';

/**
 * Random interleavings of try-acquire, blocking acquire and release by
 * handles on two coordinators, checked step by step against a model of the
 * contract: exclusive/shared compatibility, not re-entrant, FIFO waiters
 * served the moment a hold ends, fencing tokens strictly increasing.
 */
type Op =
  | { kind: 'try'; handle: number; shared: boolean }
  | { kind: 'wait'; handle: number; shared: boolean }
  | { kind: 'release'; handle: number };

const HANDLES = 4;
const op = fc.oneof(
  fc.record({ kind: fc.constant('try' as const), handle: fc.nat(HANDLES - 1), shared: fc.boolean() }),
  fc.record({ kind: fc.constant('wait' as const), handle: fc.nat(HANDLES - 1), shared: fc.boolean() }),
  fc.record({ kind: fc.constant('release' as const), handle: fc.nat(HANDLES - 1) }),
);

class LockModel {
  readonly holders = new Map<number, boolean>(); // handle → shared
  readonly queue: { handle: number; shared: boolean }[] = [];

  busy(handle: number): boolean {
    return this.holders.has(handle) || this.queue.some((w) => w.handle === handle);
  }

  fits(shared: boolean): boolean {
    if (this.holders.size === 0) return true;
    return shared && [...this.holders.values()].every(Boolean);
  }

  /** Handles granted by serving the queue from its head. */
  serve(): number[] {
    const granted: number[] = [];
    while (this.queue.length > 0 && this.fits(this.queue[0]!.shared)) {
      const next = this.queue.shift()!;
      this.holders.set(next.handle, next.shared);
      granted.push(next.handle);
    }
    return granted;
  }
}

/**
 * Runs `ops` against two coordinators on a fresh memory:// backend, checking
 * every step against `LockModel`. Every check runs here, awaited inside the
 * property: a blocked acquire's callback only records what happened (the
 * grant's order, or false), so a failed check fails this run and fast-check
 * shrinks it, instead of surfacing as an unhandled rejection from a floating
 * promise.
 */
async function runScenario(ops: Op[]): Promise<void> {
  const url = `memory://lock-model-${randomUUID()}`;
  const coordinators: Coordinator[] = [getCoordinator(url, 'a'), getCoordinator(url, 'b')];
  for (const c of coordinators) await c.start();
  const blocked: Promise<unknown>[] = [];
  try {
    const name = 'model-lock';
    const locks: Lock[] = Array.from({ length: HANDLES }, (_, i) => coordinators[i % 2]!.getLock(name));
    const model = new LockModel();
    const outcomes = new Map<number, boolean | undefined>(); // blocking acquires: undefined while pending
    /** Handles whose blocking acquire was granted, in the order the grants resolved, not yet checked. */
    const grantedInOrder: number[] = [];
    let lastToken = 0n;
    const grantedTokens: bigint[] = [];

    const checkGrant = (handle: number, step: string) => {
      const token = locks[handle]!.fencingToken;
      expect(typeof token, `handle ${handle}'s fencing token after ${step}`).toBe('bigint');
      expect(token! > lastToken, `handle ${handle}'s token ${token} after ${lastToken} (${step})`).toBe(true);
      lastToken = token!;
      grantedTokens.push(token!);
    };

    for (const step of ops) {
      const label = JSON.stringify(step);
      const lock = locks[step.handle]!;
      if (step.kind === 'try') {
        const expected = !model.busy(step.handle) && model.queue.length === 0 && model.fits(step.shared);
        const got = await lock.acquire({ blocking: false, shared: step.shared });
        expect(got, `try ${label}`).toBe(expected);
        if (got) {
          model.holders.set(step.handle, step.shared);
          checkGrant(step.handle, label);
        }
      } else if (step.kind === 'wait') {
        if (model.busy(step.handle)) {
          // Not re-entrant: the holding (or already waiting) handle gets false at once.
          expect(await lock.acquire({ shared: step.shared }), `wait ${label}`).toBe(false);
          continue;
        }
        const immediate = model.queue.length === 0 && model.fits(step.shared);
        if (immediate) model.holders.set(step.handle, step.shared);
        else model.queue.push({ handle: step.handle, shared: step.shared });
        outcomes.set(step.handle, undefined);
        blocked.push(
          lock.acquire({ shared: step.shared }).then((ok) => {
            outcomes.set(step.handle, ok);
            if (ok) grantedInOrder.push(step.handle);
          }),
        );
      } else {
        const expected = model.holders.delete(step.handle);
        expect(await lock.release(), `release ${label}`).toBe(expected);
        model.serve();
      }
      await flush();
      // Grants that resolved during this step, in the order they resolved: tokens keep growing.
      for (const handle of grantedInOrder.splice(0)) checkGrant(handle, label);
      // Every handle is exactly where the model says: holding, or still waiting.
      for (let handle = 0; handle < HANDLES; handle++) {
        expect(locks[handle]!.isHeld, `handle ${handle} after ${label}`).toBe(model.holders.has(handle));
        const waiting = model.queue.some((w) => w.handle === handle);
        if (outcomes.has(handle)) {
          expect(outcomes.get(handle), `handle ${handle} wait outcome after ${label}`).toBe(waiting ? undefined : true);
          if (!waiting) outcomes.delete(handle);
        }
      }
    }
    expect([...grantedTokens].sort((x, y) => (x < y ? -1 : 1))).toEqual(grantedTokens);
  } finally {
    for (const c of coordinators) await c.stop();
    // Acquires still waiting end with the stop; none is left running into the next run.
    await Promise.all(blocked);
  }
}

describe('lock model (property-based, memory://)', () => {
  it('acquire/release interleavings match the contract model step by step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => runScenario(ops)),
      { numRuns: 150 },
    );
  });
});
