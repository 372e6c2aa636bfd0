import { Injectable } from '@nestjs/common';
import { CoordinationError } from '../core/errors.js';
import { SHUTTING_DOWN } from './coordination.messages.js';

/**
 * The `@Leader()`/`@WithLock()` calls running now, so shutdown can wait for
 * them before it stands down and releases their locks.
 */
@Injectable()
export class GuardedCalls {
  private readonly running = new Set<Promise<unknown>>();
  private readonly shutdown = new AbortController();

  /** Aborted when shutdown stops waiting for the calls still running. */
  get shutdownSignal(): AbortSignal {
    return this.shutdown.signal;
  }

  get size(): number {
    return this.running.size;
  }

  track<T>(call: Promise<T>): Promise<T> {
    this.running.add(call);
    const forget = () => this.running.delete(call);
    call.then(forget, forget);
    return call;
  }

  /**
   * Wait up to `timeoutMs` for the running calls (and any they start
   * meanwhile); abort the signals of those still running after that.
   * Resolves the number left running.
   */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.running]),
        new Promise((resolve) => (timer = setTimeout(resolve, remaining))),
      ]);
      clearTimeout(timer);
    }
    if (this.running.size > 0) this.shutdown.abort(new CoordinationError(SHUTTING_DOWN()));
    return this.running.size;
  }
}
