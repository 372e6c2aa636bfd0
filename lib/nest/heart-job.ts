import { performance } from 'node:perf_hooks';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { MAX_TIMER_MS } from './coordination.constants.js';

export interface HeartJobOptions {
  /** The job's name in `registry` (`COORDINATION_HEARTBEAT_JOB`…). */
  name: string;
  /** Where the job is listed while it is scheduled: the application's registry, or the heart's own. */
  registry: SchedulerRegistry;
  /** The interval, asked again after every run (the driver may change the beat it needs). */
  everyMs: () => number;
  /** One run; it logs its own failures and never rejects. */
  run: () => Promise<void>;
  /** Told when a run took longer than the interval, as tooz's heart warns then. */
  onOverrun?: (tookMs: number, everyMs: number) => void;
  /** Do not keep the process alive for this job (the beat that runs while shutdown waits). */
  unref?: boolean;
}

/**
 * One of the heart's repeating jobs. Like tooz's heart, it subtracts the time
 * a run took: after a run of `d` ms the next is due `everyMs − d` ms later
 * (at once if the run took longer), so a slow beat delays the next one by no
 * more than it overran, where a fixed `setInterval` would skip a whole tick.
 * Runs never overlap.
 *
 * While it is scheduled, the job is listed under its name as an interval of
 * `registry` (the entry's timer changes at every run: look it up by name).
 * Removing it from the registry — `ScheduleModule` clears every interval at
 * `beforeApplicationShutdown`, and an application may delete it — ends the job
 * after the run in progress, if any.
 */
export class HeartJob {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: HeartJobOptions) {
    this.arm(options.everyMs());
  }

  get name(): string {
    return this.options.name;
  }

  /** The run in progress, if any (it goes on after `stop()`). */
  get running(): Promise<void> | undefined {
    return this.inFlight;
  }

  /** No run starts from now on; the one in progress, if any, finishes. */
  stop(): void {
    this.stopped = true;
    const { timer } = this;
    this.timer = undefined;
    if (!timer) return;
    clearTimeout(timer);
    if (this.listed(timer)) this.options.registry.deleteInterval(this.options.name);
  }

  private arm(delayMs: number): void {
    // Options are checked against the timer limit; a driver's interval is capped (beating sooner is harmless).
    const timer = setTimeout(() => this.tick(timer), Math.min(Math.max(0, delayMs), MAX_TIMER_MS));
    if (this.options.unref) timer.unref();
    this.timer = timer;
    this.options.registry.addInterval(this.options.name, timer);
  }

  private tick(timer: NodeJS.Timeout): void {
    if (this.stopped || !this.listed(timer)) return;
    const began = performance.now();
    this.inFlight = this.options.run().finally(() => {
      this.inFlight = undefined;
      this.next(timer, performance.now() - began);
    });
  }

  private next(timer: NodeJS.Timeout, tookMs: number): void {
    if (this.stopped || !this.listed(timer)) return;
    // The fired timer is still listed; swap it for the next one (deleting clears it, which is harmless now).
    this.options.registry.deleteInterval(this.options.name);
    const everyMs = this.options.everyMs();
    if (tookMs > everyMs) this.options.onOverrun?.(tookMs, everyMs);
    this.arm(everyMs - tookMs);
  }

  /** Whether `timer` is still this job's entry in the registry (nobody removed or replaced it). */
  private listed(timer: NodeJS.Timeout): boolean {
    const { registry, name } = this.options;
    return registry.doesExist('interval', name) && registry.getInterval(name) === timer;
  }
}
