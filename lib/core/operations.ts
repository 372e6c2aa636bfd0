import type { Backend } from './backend.js';
import { type CallContext, translateBackendError } from './backend-errors.js';
import { CoordinationError } from '../errors.js';
import { InFlight } from './in-flight.js';

export type CoordinatorState = 'stopped' | 'starting' | 'started' | 'stopping';

/**
 * The coordinator's state and the one wrapper every public operation goes
 * through: refused unless started, counted in flight for `stop()`, backend
 * errors translated. The coordinator, its locks and its watcher runs share
 * this one object, so the state lives here and nowhere else.
 */
export class Operations {
  /** Set synchronously on entry to start()/stop(), so overlapping calls are refused. */
  state: CoordinatorState = 'stopped';
  readonly inFlight = new InFlight();

  constructor(
    private readonly memberId: string,
    private readonly backend: Backend,
  ) {}

  /** False once the coordinator began to stop: a hold or leadership won after that is handed straight back. */
  get accepting(): boolean {
    return this.state === 'started';
  }

  /** Run a public operation: rejected unless started, tracked for stop(), backend errors translated. */
  run<T>(name: string, context: CallContext, work: () => Promise<T>): Promise<T> {
    if (this.state !== 'started') {
      return Promise.reject(new CoordinationError(`Cannot ${name}: coordinator ${this.memberId} is ${this.state}`));
    }
    return this.inFlight.track(this.call(name, context, work));
  }

  /** Translate a backend error for `context`, with no started check (start, stop, clean-up after an abort). */
  async call<T>(name: string, context: CallContext, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.translate(error, name, context);
    }
  }

  /** A backend error as the caller should see it (`CoordinatorConnectionError`…). */
  translate(error: unknown, name: string, context: CallContext): unknown {
    return translateBackendError(error, this.backend, this.memberId, name, context);
  }
}
