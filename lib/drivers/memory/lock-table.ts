import { performance } from 'node:perf_hooks';
import type { HoldRef } from '../../core/backend.js';
import { timerDelay } from '../../core/timeout.js';

interface Hold {
  shared: boolean;
  fence: bigint;
  expiresAt: number;
  /** Tells the holder's session its hold was broken. */
  broken(): void;
}

/** A queued request; `granted` tells its session (the backend's push). */
export interface QueuedRequest {
  ref: HoldRef;
  expiryMs: number;
  granted(fence: bigint): void;
  broken(): void;
}

interface LockState {
  holds: Map<string, Hold>;
  /** Arrival order: a releaser asking again queues behind those already waiting. */
  waiters: QueuedRequest[];
  wake: NodeJS.Timeout | undefined;
}

/**
 * The locks of one in-memory backend: exclusive and shared holds keyed by
 * holder, a FIFO queue served the moment a hold ends (the head is handed the
 * lock directly, so no newcomer can barge in), expiry judged against the
 * monotonic clock on every call, and one fencing counter for the whole
 * backend, so the names ever used cost nothing once their holds are gone.
 */
export class LockTable {
  private readonly states = new Map<string, LockState>();
  private fence = 0n;

  /** The fencing token, 'queued', or null when not grantable and not to wait. */
  acquire(request: QueuedRequest, wait: boolean): bigint | 'queued' | null {
    const { name, holder, shared } = request.ref;
    const state = this.settle(name);
    if (state.holds.has(holder)) return null;
    if (state.waiters.length === 0 && this.compatible(state, shared)) return this.grant(state, request);
    if (!wait) return null;
    state.waiters.push(request);
    this.scheduleWake(name, state);
    return 'queued';
  }

  /** Leave the queue. */
  withdraw(ref: HoldRef): void {
    const state = this.states.get(ref.name);
    if (!state) return;
    const index = state.waiters.findIndex((waiter) => waiter.ref.holder === ref.holder);
    if (index >= 0) state.waiters.splice(index, 1);
    // The head may have been the only thing blocking compatible waiters behind it.
    this.settle(ref.name);
  }

  release(ref: HoldRef): boolean {
    const state = this.settle(ref.name);
    if (!state.holds.delete(ref.holder)) return false;
    this.settle(ref.name);
    return true;
  }

  refresh(ref: HoldRef, expiryMs: number): boolean {
    const hold = this.settle(ref.name).holds.get(ref.holder);
    if (!hold) return false;
    hold.expiresAt = performance.now() + expiryMs;
    return true;
  }

  /** The fence of `ref`'s live hold, or null. */
  heldFence(ref: HoldRef): bigint | null {
    return this.settle(ref.name).holds.get(ref.holder)?.fence ?? null;
  }

  /** Whether `ref` waits in the queue. */
  queued(ref: HoldRef): boolean {
    return this.settle(ref.name).waiters.some((waiter) => waiter.ref.holder === ref.holder);
  }

  /** Remove every hold on `name`, telling each holder; true if there was one. */
  break(name: string): boolean {
    const state = this.settle(name);
    const holds = [...state.holds.values()];
    state.holds.clear();
    this.settle(name);
    for (const hold of holds) hold.broken();
    return holds.length > 0;
  }

  /** Drop expired holds, then serve waiters from the head while they fit. */
  private settle(name: string): LockState {
    let state = this.states.get(name);
    if (!state) {
      state = { holds: new Map(), waiters: [], wake: undefined };
      this.states.set(name, state);
    }
    const now = performance.now();
    for (const [holder, hold] of state.holds) if (hold.expiresAt <= now) state.holds.delete(holder);
    const granted: [QueuedRequest, bigint][] = [];
    while (state.waiters.length > 0 && this.compatible(state, state.waiters[0]!.ref.shared)) {
      const waiter = state.waiters.shift()!;
      granted.push([waiter, this.grant(state, waiter)]);
    }
    if (state.holds.size === 0 && state.waiters.length === 0) {
      clearTimeout(state.wake);
      this.states.delete(name);
    } else {
      this.scheduleWake(name, state);
    }
    // Pushed once the table is consistent: a session may call straight back in.
    for (const [waiter, fence] of granted) waiter.granted(fence);
    return state;
  }

  private compatible(state: LockState, shared: boolean): boolean {
    if (state.holds.size === 0) return true;
    if (!shared) return false;
    for (const hold of state.holds.values()) if (!hold.shared) return false;
    return true;
  }

  private grant(state: LockState, request: QueuedRequest): bigint {
    const fence = ++this.fence;
    state.holds.set(request.ref.holder, {
      shared: request.ref.shared,
      fence,
      expiresAt: performance.now() + request.expiryMs,
      broken: request.broken,
    });
    this.states.set(request.ref.name, state);
    return fence;
  }

  /** Waiters behind a hold that expires must learn of it without anyone else calling in. */
  private scheduleWake(name: string, state: LockState): void {
    clearTimeout(state.wake);
    state.wake = undefined;
    if (state.waiters.length === 0 || state.holds.size === 0) return;
    const soonest = Math.min(...[...state.holds.values()].map((h) => h.expiresAt));
    state.wake = setTimeout(() => this.settle(name), timerDelay(soonest - performance.now() + 1));
    state.wake.unref();
  }
}
