import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { settledBy } from './deadline.js';
import { RegistryJob, type RegistryJobOptions } from './registry-job.js';

/**
 * Where the heart's jobs live. The module never imports
 * `ScheduleModule.forRoot()` (a second copy would run every `@Cron()` of the
 * application again): when the application imports it, in any order, the
 * jobs are listed by name in its `SchedulerRegistry`; otherwise in one of the
 * heart's own, which nothing else sees.
 */
@Injectable()
export class CoordinationJobs {
  private readonly jobs = new Map<string, RegistryJob>();
  /** For jobs nobody else should list or clear: those of an application without ScheduleModule, the shutdown beat. */
  readonly privateRegistry = new SchedulerRegistry();
  private appRegistry: SchedulerRegistry | null | undefined;

  constructor(private readonly moduleRef: ModuleRef) {}

  /**
   * The application's `SchedulerRegistry`, or `null` without `ScheduleModule`.
   * Looked up when first needed (at bootstrap, when every module's providers
   * exist), across modules: `ScheduleModule` is global wherever it is imported.
   */
  get applicationRegistry(): SchedulerRegistry | null {
    if (this.appRegistry === undefined) {
      try {
        this.appRegistry = this.moduleRef.get(SchedulerRegistry, { strict: false });
      } catch {
        this.appRegistry = null; // UnknownElementException: the application has no ScheduleModule
      }
    }
    return this.appRegistry ?? null;
  }

  /** Schedule a job under `name` in the application's registry if there is one, else in ours. */
  mount(options: Omit<RegistryJobOptions, 'registry'>): RegistryJob {
    const job = new RegistryJob({ ...options, registry: this.applicationRegistry ?? this.privateRegistry });
    this.jobs.set(options.name, job);
    return job;
  }

  /** Stop every job mounted here; runs in progress finish. */
  stopAll(): void {
    for (const job of this.jobs.values()) job.stop();
  }

  /**
   * Wait until `deadline` (a `Date.now()` time) for the runs in progress.
   * Resolves the names of the jobs whose run is still going.
   */
  async settle(deadline: number): Promise<string[]> {
    const running = [...this.jobs.values()].filter((job) => job.running);
    await settledBy(
      running.map((job) => job.running!),
      deadline,
    );
    return running.filter((job) => job.running).map((job) => job.name);
  }
}
