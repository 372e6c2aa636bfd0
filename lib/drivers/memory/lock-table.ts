import { performance } from 'node:perf_hooks';
import { timerDelay } from '../../core/timeout.js';

interface Hold {
  shared: boolean;
  expiresAt: number;
}

interface Waiter {
  token: string;
  shared: boolean;
  expiryMs: number;
  grant(fence: bigint | null): void;
}

interface LockState {
  holds: Map<string, Hold>;
  /** Arrival order: a releaser asking again queues behind those already waiting. */
  waiters: Waiter[];
  wake: NodeJS.Timeout | undefined;
}

/**
 * The locks of one in-memory backend: exclusive and shared holds keyed by
 * handle token, FIFO waiters served the moment a hold ends, expiry judged
 * against the monotonic clock on every call, and a fencing counter per name
 * that only grows.
 */
export class LockTable {
  private readonly states = new Map<string, LockState>();
  private readonly fences = new Map<string, bigint>();

  /** The fencing token, or null when not acquired (at once, or when the wait ends). */
  acquire(
    name: string,
    request: {
      token: string;
      shared: boolean;
      blocking: boolean;
      timeoutMs?: number;
      expiryMs: number;
      signal: AbortSignal;
    },
  ): Promise<bigint | null> {
    const state = this.settle(name);
    if (state.holds.has(request.token)) return Promise.resolve(null);
    if (state.waiters.length === 0 && this.compatible(state, request.shared)) {
      return Promise.resolve(this.grant(name, state, request.token, request.shared, request.expiryMs));
    }
    if (!request.blocking || request.timeoutMs === 0 || request.signal.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = () => {
        this.removeWaiter(name, waiter);
        waiter.grant(null);
      };
      const waiter: Waiter = {
        token: request.token,
        shared: request.shared,
        expiryMs: request.expiryMs,
        grant: (fence) => {
          clearTimeout(timer);
          request.signal.removeEventListener('abort', giveUp);
          resolve(fence);
        },
      };
      if (request.timeoutMs !== undefined) timer = setTimeout(giveUp, timerDelay(request.timeoutMs));
      request.signal.addEventListener('abort', giveUp, { once: true });
      state.waiters.push(waiter);
      this.scheduleWake(name, state);
    });
  }

  release(name: string, token: string): boolean {
    const state = this.settle(name);
    if (!state.holds.delete(token)) return false;
    this.settle(name);
    return true;
  }

  refresh(name: string, token: string, expiryMs: number): boolean {
    const hold = this.settle(name).holds.get(token);
    if (!hold) return false;
    hold.expiresAt = performance.now() + expiryMs;
    return true;
  }

  isHeldBy(name: string, token: string): boolean {
    return this.settle(name).holds.has(token);
  }

  /** Remove every hold on `name`; true if there was one. */
  break(name: string): boolean {
    const state = this.settle(name);
    const had = state.holds.size > 0;
    state.holds.clear();
    this.settle(name);
    return had;
  }

  /** Drop expired holds, then serve waiters from the head while they fit. */
  private settle(name: string): LockState {
    let state = this.states.get(name);
    if (!state) {
      state = { holds: new Map(), waiters: [], wake: undefined };
      this.states.set(name, state);
    }
    const now = performance.now();
    for (const [token, hold] of state.holds) if (hold.expiresAt <= now) state.holds.delete(token);
    while (state.waiters.length > 0 && this.compatible(state, state.waiters[0]!.shared)) {
      const waiter = state.waiters.shift()!;
      waiter.grant(this.grant(name, state, waiter.token, waiter.shared, waiter.expiryMs));
    }
    if (state.holds.size === 0 && state.waiters.length === 0) {
      clearTimeout(state.wake);
      this.states.delete(name);
    } else {
      this.scheduleWake(name, state);
    }
    return state;
  }

  private compatible(state: LockState, shared: boolean): boolean {
    if (state.holds.size === 0) return true;
    if (!shared) return false;
    for (const hold of state.holds.values()) if (!hold.shared) return false;
    return true;
  }

  private grant(name: string, state: LockState, token: string, shared: boolean, expiryMs: number): bigint {
    state.holds.set(token, { shared, expiresAt: performance.now() + expiryMs });
    this.states.set(name, state);
    const fence = (this.fences.get(name) ?? 0n) + 1n;
    this.fences.set(name, fence);
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

  private removeWaiter(name: string, waiter: Waiter): void {
    const state = this.states.get(name);
    if (!state) return;
    const index = state.waiters.indexOf(waiter);
    if (index >= 0) state.waiters.splice(index, 1);
    // The head may have been the only thing blocking compatible waiters behind it.
    this.settle(name);
  }
}
