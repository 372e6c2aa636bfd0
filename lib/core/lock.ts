import { LockAcquireFailedError } from './errors.js';
import { MAX_TIMER_MS, timerDelay } from './timeout.js';

export interface AcquireOptions {
  /** `false` tries once; `true` (default) waits until acquired or `timeoutMs` passes. */
  blocking?: boolean;
  /** Take a shared (reader) hold; many shared holders together, none beside an exclusive one. */
  shared?: boolean;
  /** With `blocking`, give up (resolve `false`) after this many ms; forever when omitted (or ~24.8 days and more). */
  timeoutMs?: number;
  /** With `blocking`, give up (resolve `false`) when this aborts; the place in the queue is withdrawn. */
  signal?: AbortSignal;
}

/** What a lock needs from the coordinator that made it; drivers never see more. */
export interface LockOwner {
  readonly memberId: string;
  /** ms a hold lives without a heartbeat, or undefined when holds do not expire by time. */
  readonly lockExpiryMs: number | undefined;
  assertStarted(operation: string): void;
  /** Aborted when the coordinator stops: every blocked acquire gives up with false. */
  readonly stopSignal: AbortSignal;
  /** False once the coordinator began to stop: a hold won after that is handed straight back. */
  readonly accepting: boolean;
  holdStarted(lock: Lock): void;
  holdEnded(lock: Lock, lost: boolean): void;
}

/** How a driver takes a hold: resolves the fencing token, or null when not acquired. */
export interface BackendAcquire {
  shared: boolean;
  blocking: boolean;
  timeoutMs: number | undefined;
  /** Give up waiting (resolve null) when this aborts: the coordinator is stopping. */
  signal: AbortSignal;
}

/**
 * A handle on the distributed lock `name`. The life of a hold — not
 * re-entrant, expiry watch, lost-hold signal, fencing token — is written here
 * once; a driver fills in the five backend operations.
 */
export abstract class Lock {
  /** Set by each successful acquire: greater than every token issued before for this name. */
  fencingToken: bigint | null = null;
  private hold: { shared: boolean; controller: AbortController } | null = null;
  private acquiring = false;
  private expiryWatch: NodeJS.Timeout | undefined;

  protected constructor(
    readonly name: string,
    protected readonly owner: LockOwner,
  ) {}

  protected abstract backendAcquire(request: BackendAcquire): Promise<bigint | null>;
  /** true if this handle's hold was there and is now gone. */
  protected abstract backendRelease(): Promise<boolean>;
  /** Extend the hold; false when it is no longer ours. */
  protected abstract backendHeartbeat(): Promise<boolean>;
  protected abstract backendIsStillOwner(): Promise<boolean>;
  /** Remove whoever holds the lock; true if someone did. */
  protected abstract backendBreak(): Promise<boolean>;

  /** Whether this handle believes it holds the lock (no round trip; see `isStillOwner()`). */
  get isHeld(): boolean {
    return this.hold !== null;
  }

  /** Aborted when the current hold is lost without `release()`; null while nothing is held. */
  get signal(): AbortSignal | null {
    return this.hold?.controller.signal ?? null;
  }

  acquire(options: AcquireOptions = {}): Promise<boolean> {
    const { blocking = true, shared = false, timeoutMs, signal } = options;
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
      throw new TypeError(`timeoutMs for lock ${this.name} must be a number >= 0, got ${String(timeoutMs)}`);
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`signal for lock ${this.name} must be an AbortSignal`);
    }
    const boundedMs = timeoutMs !== undefined && timeoutMs < MAX_TIMER_MS ? timeoutMs : undefined;
    return this.acquireHold(Boolean(blocking), Boolean(shared), boundedMs, signal);
  }

  private async acquireHold(
    blocking: boolean,
    shared: boolean,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    this.owner.assertStarted(`acquire lock ${this.name}`);
    // Not re-entrant: the handle that holds (or is already waiting) gets false at once.
    if (this.hold || this.acquiring || signal?.aborted) return false;
    this.acquiring = true;
    try {
      const giveUp = signal ? AbortSignal.any([this.owner.stopSignal, signal]) : this.owner.stopSignal;
      const token = await this.backendAcquire({ shared, blocking, timeoutMs, signal: giveUp });
      if (token === null) return false;
      if (!this.owner.accepting) {
        await this.backendRelease().catch(() => false);
        return false;
      }
      this.fencingToken = token;
      this.hold = { shared, controller: new AbortController() };
      this.owner.holdStarted(this);
      this.watchExpiry();
      return true;
    } finally {
      this.acquiring = false;
    }
  }

  async release(): Promise<boolean> {
    if (!this.hold) return false;
    const released = await this.backendRelease();
    // Released, or found already gone: either way this handle holds nothing now.
    this.endHold(!released);
    return released;
  }

  async heartbeat(): Promise<boolean> {
    if (!this.hold) return false;
    const kept = await this.backendHeartbeat();
    if (kept) this.watchExpiry();
    else this.endHold(true);
    return kept;
  }

  async isStillOwner(): Promise<boolean> {
    if (!this.hold) return false;
    const owner = await this.backendIsStillOwner();
    if (!owner) this.endHold(true);
    return owner;
  }

  async break(): Promise<boolean> {
    this.owner.assertStarted(`break lock ${this.name}`);
    const broken = await this.backendBreak();
    if (broken && this.hold) this.endHold(true);
    return broken;
  }

  /** Acquire, run `fn`, release in `finally`; `LockAcquireFailedError` when not acquired. */
  async withLock<T>(fn: (signal: AbortSignal) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    if (!(await this.acquire(options))) throw new LockAcquireFailedError(this.name);
    try {
      return await fn(this.signal!);
    } finally {
      await this.release();
    }
  }

  /** The coordinator ends holds it gives up on (stop, a failed heartbeat) through here. */
  endHold(lost: boolean): void {
    const hold = this.hold;
    if (!hold) return;
    this.hold = null;
    clearTimeout(this.expiryWatch);
    this.owner.holdEnded(this, lost);
    if (lost) hold.controller.abort(new Error(`Lock ${this.name} was lost`));
  }

  /**
   * Holds expire by time on some backends. Look again just after the expiry
   * is due, so a holder that stopped beating learns of the loss (and
   * `events$` reports it) without having to ask.
   */
  private watchExpiry(): void {
    clearTimeout(this.expiryWatch);
    const expiry = this.owner.lockExpiryMs;
    if (expiry === undefined) return;
    this.expiryWatch = setTimeout(
      () => {
        // Still ours (a clamped timer, or a backend counting from later): look again.
        this.isStillOwner().then(
          (owner) => owner && this.watchExpiry(),
          () => undefined,
        );
      },
      timerDelay(expiry + 5),
    );
    this.expiryWatch.unref();
  }
}
