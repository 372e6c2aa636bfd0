import { performance } from 'node:perf_hooks';
import { timerDelay } from './timeout.js';

/** Where a loop's pending timer is listed (the Nest layer's `SchedulerRegistry`); removing it there ends the loop. */
export interface TimerListing {
  add(timer: NodeJS.Timeout): void;
  remove(timer: NodeJS.Timeout): void;
  has(timer: NodeJS.Timeout): boolean;
}

export interface PacedLoopOptions {
  /** One run; it reports its own failures and never rejects. */
  run: () => Promise<void>;
  /** The interval, asked again after every run (the driver may change the beat it needs). */
  everyMs: () => number;
  /** Told when a run took longer than the interval, as tooz's heart warns then. */
  onOverrun?: (tookMs: number, everyMs: number) => void;
  /** Keep the process alive for this loop (the Nest jobs do; a coordinator's own beat does not, like tooz's daemon thread). */
  ref?: boolean;
  listing?: TimerListing;
}

/**
 * The one beat loop, used by `start({ startHeart: true })` and by the Nest
 * layer's jobs. Like tooz's heart it subtracts the time a run took: after a
 * run of `d` ms the next is due `everyMs − d` ms later (at once if the run
 * took longer), so a slow run delays the next by no more than it overran.
 * Runs never overlap. `runSoon()` brings the next run forward (a push said
 * there is something to do); several calls before it runs make one run.
 */
export class PacedLoop {
  private timer: NodeJS.Timeout | undefined;
  /** When the pending timer fires (`performance.now()` time); Infinity while a run goes on. */
  private dueAt = Infinity;
  private inFlight: Promise<void> | undefined;
  /** Set before a run starts (even before its promise exists), cleared when it ended. */
  private busy = false;
  /** A `runSoon()` came while a run was going: the next one is due this soon after it. */
  private soonAfterRun: number | undefined;
  private stopped = false;

  constructor(private readonly options: PacedLoopOptions) {}

  /** Start looping: the first run is due after `firstDelayMs` (one interval by default). */
  start(firstDelayMs = this.options.everyMs()): this {
    this.arm(firstDelayMs);
    return this;
  }

  /** The run in progress, if any (it goes on after `stop()`). */
  get running(): Promise<void> | undefined {
    return this.inFlight;
  }

  get isAlive(): boolean {
    return !this.stopped;
  }

  /** Run within `withinMs` instead of at the next interval; a run in progress is followed by one that soon. */
  runSoon(withinMs: number): void {
    if (this.stopped) return;
    if (this.busy) {
      this.soonAfterRun = Math.min(this.soonAfterRun ?? Infinity, withinMs);
      return;
    }
    const { timer } = this;
    if (!timer || this.dueAt <= performance.now() + withinMs) return; // due soon enough already
    if (this.ended(timer)) return;
    this.disarm(timer);
    this.arm(withinMs);
  }

  /** No run starts from now on; resolves once the run in progress, if any, finished. */
  async stop(): Promise<void> {
    this.end();
    await this.inFlight;
  }

  private end(): void {
    this.stopped = true;
    const { timer } = this;
    if (timer) this.disarm(timer);
  }

  private arm(delayMs: number): void {
    // A driver's interval is capped at a timer's range (beating sooner is harmless).
    const delay = timerDelay(delayMs);
    const timer = setTimeout(() => this.tick(timer), delay);
    if (!this.options.ref) timer.unref();
    this.timer = timer;
    this.dueAt = performance.now() + delay;
    this.options.listing?.add(timer);
  }

  private disarm(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    if (this.timer === timer) this.timer = undefined;
    this.dueAt = Infinity;
    if (this.options.listing?.has(timer)) this.options.listing.remove(timer);
  }

  private tick(timer: NodeJS.Timeout): void {
    if (this.stopped || this.timer !== timer || this.ended(timer)) return;
    // The fired timer stays listed while the run goes on: removing it meanwhile ends the loop after the run.
    this.dueAt = Infinity;
    this.busy = true;
    const began = performance.now();
    this.inFlight = this.options.run().finally(() => {
      this.inFlight = undefined;
      this.busy = false;
      this.next(timer, performance.now() - began);
    });
  }

  private next(fired: NodeJS.Timeout, tookMs: number): void {
    const soon = this.soonAfterRun;
    this.soonAfterRun = undefined;
    if (this.stopped || this.ended(fired)) return;
    this.disarm(fired);
    const everyMs = this.options.everyMs();
    if (tookMs > everyMs) this.options.onOverrun?.(tookMs, everyMs);
    this.arm(Math.min(everyMs - tookMs, soon ?? Infinity));
  }

  /** Removed from its listing (ScheduleModule clears it at shutdown, or the application did): the loop ends. */
  private ended(timer: NodeJS.Timeout): boolean {
    if (!this.options.listing || this.options.listing.has(timer)) return false;
    this.end();
    return true;
  }
}
