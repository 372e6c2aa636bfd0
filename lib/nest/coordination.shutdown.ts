import { Inject, Injectable, Logger } from '@nestjs/common';
import { Coordinator } from '../core/coordinator.js';
import {
  COORDINATION_HEARTBEAT_JOB,
  COORDINATION_LOGGER_CONTEXT,
  COORDINATION_WATCHERS_JOB,
  RESOLVED_COORDINATION_OPTIONS,
} from './coordination.constants.js';
import { CALLS_STILL_RUNNING, JOBS_STILL_RUNNING, SHUTDOWN_STEP_FAILED } from './coordination.messages.js';
import type { ResolvedCoordinationOptions } from './coordination-options.resolver.js';
import { GuardedCalls } from './guarded-calls.js';
import { GuardedMethodRunner } from './guarded-method.runner.js';
import { RegistryJob } from './registry-job.js';
import { CoordinationJobs } from './coordination.jobs.js';
import { MemberGroups } from './member-groups.js';

/** What each job does, for messages. */
const JOB_DESCRIPTIONS: Record<string, string> = {
  [COORDINATION_HEARTBEAT_JOB]: 'heartbeat',
  [COORDINATION_WATCHERS_JOB]: 'watchers run',
};

/**
 * The bounded shutdown drain. It begins (once, from whichever shutdown hook
 * comes first): calls still waiting for a lock give up, the heart's jobs stop,
 * and a private beat keeps memberships, leaderships and the locks of running
 * calls alive. It finishes within `shutdown.timeoutMs`: it waits for a job run
 * in progress and for the guarded calls, abandons those still going when the
 * budget is spent, then stands down, leaves the groups and stops the
 * coordinator. A failing step is logged and the next one runs: the backend
 * may be what is down.
 */
@Injectable()
export class CoordinationShutdown {
  private readonly logger = new Logger(COORDINATION_LOGGER_CONTEXT);
  private began = false;
  private shutdownBeat: RegistryJob | undefined;

  constructor(
    @Inject(Coordinator) private readonly coordinator: Coordinator,
    @Inject(RESOLVED_COORDINATION_OPTIONS) private readonly options: ResolvedCoordinationOptions,
    private readonly calls: GuardedCalls,
    private readonly runner: GuardedMethodRunner,
    private readonly scheduler: CoordinationJobs,
    private readonly groups: MemberGroups,
  ) {}

  /** Whether shutdown has begun. */
  get underway(): boolean {
    return this.began;
  }

  /**
   * Shutdown begins: `beat` (the heart's, or undefined when it does not beat)
   * goes on every `beatEveryMs()` on a timer of our own until the teardown, so
   * held locks survive the wait for running calls.
   */
  begin(beat?: { everyMs: () => number; run: () => Promise<void> }): void {
    if (this.began) return;
    this.began = true;
    this.calls.beginShutdown();
    this.scheduler.stopAll();
    if (this.coordinator.isStarted && beat) {
      this.shutdownBeat = new RegistryJob({
        name: COORDINATION_HEARTBEAT_JOB,
        registry: this.scheduler.privateRegistry,
        everyMs: beat.everyMs,
        run: beat.run,
        unref: true,
      });
    }
  }

  /** The teardown; `begin()` must have run. */
  async finish(): Promise<void> {
    // One budget for everything shutdown waits for: a job run in progress, then the guarded calls.
    const timeoutMs = this.options.shutdownTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    try {
      const jobs = await this.scheduler.settle(deadline);
      if (jobs.length > 0) {
        const described = jobs.map((name) => JOB_DESCRIPTIONS[name] ?? name);
        this.logger.warn(JOBS_STILL_RUNNING(described, this.coordinator.memberId, timeoutMs));
      }
      if (!this.coordinator.isStarted) return;
      const stillRunning = await this.calls.drain(deadline);
      if (stillRunning > 0) this.logger.warn(CALLS_STILL_RUNNING(stillRunning, timeoutMs));
      this.shutdownBeat?.stop();
      await this.groups.standDownAndLeave((what, work) => this.step(what, work));
      // stop() releases the locks of calls that outlived the wait, and disconnects.
      await this.step(`stopping coordinator ${this.coordinator.memberId}`, () => this.coordinator.stop());
    } finally {
      this.shutdownBeat?.stop();
      this.runner.unbindAll();
    }
  }

  /** Shutdown goes on past a failing step: the backend may be the thing that is down. */
  private async step(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.error(SHUTDOWN_STEP_FAILED(what, error), error instanceof Error ? error.stack : undefined);
    }
  }
}
