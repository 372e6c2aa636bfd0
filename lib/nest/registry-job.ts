import type { SchedulerRegistry } from '@nestjs/schedule';
import { PacedLoop, type PacedLoopOptions } from '../core/paced-loop.js';

export interface RegistryJobOptions extends Omit<PacedLoopOptions, 'listing' | 'ref'> {
  /** The job's name in `registry` (`COORDINATION_HEARTBEAT_JOB`…). */
  name: string;
  /** Where the job is listed while it is scheduled: the application's registry, or the module's own. */
  registry: SchedulerRegistry;
  /** Do not keep the process alive for this job (the beat that runs while shutdown waits). */
  unref?: boolean;
}

/**
 * One of the module's repeating jobs: the core's `PacedLoop` (tooz's
 * subtraction: the next run is due the interval minus the run's own time),
 * listed by name as an interval of `registry` while it is scheduled (the
 * entry's timer changes at every run: look it up by name). Removing it from
 * the registry — `ScheduleModule` clears every interval at
 * `beforeApplicationShutdown`, and an application may delete it — ends the
 * job after the run in progress, if any.
 */
export class RegistryJob {
  private readonly loop: PacedLoop;

  constructor(private readonly options: RegistryJobOptions) {
    const { registry, name } = options;
    this.loop = new PacedLoop({
      run: options.run,
      everyMs: options.everyMs,
      onOverrun: options.onOverrun,
      ref: !options.unref,
      listing: {
        add: (timer) => registry.addInterval(name, timer),
        remove: () => registry.deleteInterval(name),
        has: (timer) => registry.doesExist('interval', name) && registry.getInterval(name) === timer,
      },
    }).start();
  }

  get name(): string {
    return this.options.name;
  }

  /** The run in progress, if any (it goes on after `stop()`). */
  get running(): Promise<void> | undefined {
    return this.loop.running;
  }

  /** Run within `withinMs` rather than at the next interval (a push said there is something to do). */
  runSoon(withinMs: number): void {
    this.loop.runSoon(withinMs);
  }

  /** No run starts from now on; the one in progress, if any, finishes. */
  stop(): void {
    void this.loop.stop();
  }
}
