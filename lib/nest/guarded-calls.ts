import { Injectable } from '@nestjs/common';
import { setMaxListeners } from 'node:events';
import { CoordinationError } from '../errors.js';
import { SHUTTING_DOWN } from './coordination.messages.js';
import { settledBy } from './deadline.js';

/** Every waiting or running call listens: lift Node's 10-listener warning. */
function sharedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * The application's `@Leader()`/`@WithLock()` calls running now, and the two
 * moments of shutdown they follow: when it begins (calls still waiting for a
 * lock give up) and when it stops waiting for the calls still running (their
 * lock signals abort).
 */
@Injectable()
export class GuardedCalls {
  private readonly running = new Set<Promise<unknown>>();
  private readonly shutdownBegan = sharedController();
  private readonly waitingEnded = sharedController();

  /** Aborted when the application begins to shut down. */
  get shuttingDown(): AbortSignal {
    return this.shutdownBegan.signal;
  }

  /** Aborted when shutdown stops waiting for the calls still running. */
  get waitEnded(): AbortSignal {
    return this.waitingEnded.signal;
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

  beginShutdown(): void {
    this.shutdownBegan.abort();
  }

  /**
   * Wait until `deadline` (a `Date.now()` time) for the running calls, and
   * any they start meanwhile; then abort the lock signals of those still
   * running. Resolves the number left running.
   */
  async drain(deadline: number): Promise<number> {
    while (this.running.size > 0) {
      if (!(await settledBy([...this.running], deadline))) break;
    }
    if (this.running.size > 0) this.waitingEnded.abort(new CoordinationError(SHUTTING_DOWN()));
    return this.running.size;
  }
}
