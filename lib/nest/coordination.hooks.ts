import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { Subscription } from 'rxjs';
import { Coordinator } from '../core/coordinator.js';
import { type CoordinationEvent, LeadershipLost, LockLost } from '../core/events.js';
import {
  COORDINATION_HEARTBEAT_JOB,
  COORDINATION_LOGGER_CONTEXT,
  COORDINATION_WATCHERS_JOB,
  IMPORT_SCHEDULE_MODULE_OPTION,
  PUSH_DEBOUNCE_MS,
  RESOLVED_COORDINATION_OPTIONS,
} from './coordination.constants.js';
import {
  HEARTBEAT_FAILED,
  HEARTBEAT_OVERRAN,
  HEARTBEAT_TOO_SLOW,
  IMPORT_SCHEDULE_MODULE_IGNORED,
  LEADERSHIP_LOST,
  LOCK_LOST,
  WATCHERS_FAILED,
} from './coordination.messages.js';
import type { ResolvedCoordinationOptions } from './coordination-options.resolver.js';
import { CoordinationShutdown } from './coordination.shutdown.js';
import { CoordinationJobs } from './coordination.jobs.js';
import { MemberGroups } from './member-groups.js';
import type { RegistryJob } from './registry-job.js';

/**
 * The module's lifecycle hooks, in one place. At bootstrap it starts the
 * coordinator, joins the configured groups and those the decorators need,
 * registers the watchers the explorer found, runs one election at once, and
 * schedules `heartbeat()` and `runWatchers()` as the jobs
 * `COORDINATION_HEARTBEAT_JOB` and `COORDINATION_WATCHERS_JOB` (see
 * `CoordinationJobs`). A backend push (`coordinator.changes$`: members
 * changed, a leader gone) brings the watchers run forward to within
 * `PUSH_DEBOUNCE_MS`, so handlers and hand-overs do not wait for the tick
 * (docs/nestjs.md#how-soon-handlers-run). At shutdown it hands over to
 * `CoordinationShutdown`.
 *
 * Nest runs the hooks of imported modules before those of their importers
 * at bootstrap, and after them at shutdown (global modules, this one by
 * default, count as imported by all, in the order the application lists
 * them). So the coordinator is started and elections held before the
 * `onApplicationBootstrap` of the modules that use it, and stays usable until
 * their `onApplicationShutdown` has returned.
 */
@Injectable()
export class CoordinationHooks implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(COORDINATION_LOGGER_CONTEXT);
  private heartbeatEveryMs: number | undefined;
  private readonly subscriptions = new Subscription();
  private watchersJob: RegistryJob | undefined;
  /** A push came before the watchers job was mounted. */
  private pushedEarly = false;

  constructor(
    @Inject(Coordinator) private readonly coordinator: Coordinator,
    @Inject(RESOLVED_COORDINATION_OPTIONS) private readonly options: ResolvedCoordinationOptions,
    private readonly groups: MemberGroups,
    private readonly scheduler: CoordinationJobs,
    private readonly shutdown: CoordinationShutdown,
    @Optional() @Inject(IMPORT_SCHEDULE_MODULE_OPTION) private readonly importScheduleModule?: unknown,
  ) {}

  // ---- Bootstrap -------------------------------------------------------------

  async onApplicationBootstrap(): Promise<void> {
    if (this.importScheduleModule !== undefined) this.logger.warn(IMPORT_SCHEDULE_MODULE_IGNORED());
    await this.coordinator.start();
    try {
      this.subscriptions.add(this.coordinator.events$.subscribe((event) => this.logEvent(event)));
      this.subscriptions.add(this.coordinator.changes$.subscribe(() => this.pushed()));
      if (this.options.heartbeat.enabled ?? true) {
        this.heartbeatEveryMs = await this.firstBeat();
      }
      await this.groups.join();
      await this.groups.watch();
      // Elect at once, so a lone instance leads as soon as the application is up.
      await this.runWatchers();
      if (this.heartbeatEveryMs !== undefined) {
        this.scheduler.mount({
          name: COORDINATION_HEARTBEAT_JOB,
          everyMs: () => this.heartbeatEveryMs!,
          run: () => this.beat(),
          onOverrun: (tookMs, everyMs) =>
            this.logger.warn(HEARTBEAT_OVERRAN(this.coordinator.memberId, tookMs, everyMs)),
        });
      }
      this.watchersJob = this.scheduler.mount({
        name: COORDINATION_WATCHERS_JOB,
        everyMs: () => this.options.watchersIntervalMs,
        run: () => this.runWatchers(),
      });
      if (this.pushedEarly) this.pushed();
    } catch (error) {
      this.scheduler.stopAll();
      this.subscriptions.unsubscribe();
      await this.coordinator.stop().catch(() => undefined);
      throw error;
    }
  }

  private async firstBeat(): Promise<number> {
    const neededMs = await this.coordinator.heartbeat();
    const { intervalMs } = this.options.heartbeat;
    if (intervalMs !== undefined && intervalMs > neededMs) this.logger.warn(HEARTBEAT_TOO_SLOW(intervalMs, neededMs));
    return intervalMs ?? neededMs;
  }

  // ---- What each tick runs ---------------------------------------------------

  /** Each tick calls the coordinator's public `heartbeat()`; failures are logged and retried next tick. */
  private async beat(): Promise<void> {
    try {
      const neededMs = await this.coordinator.heartbeat();
      // Follow the driver if the interval it asks for changes (unless the user fixed one).
      if (this.options.heartbeat.intervalMs === undefined) this.heartbeatEveryMs = neededMs;
    } catch (error) {
      this.logger.error(HEARTBEAT_FAILED(this.coordinator.memberId, error), stackOf(error));
    }
  }

  private async runWatchers(): Promise<void> {
    try {
      await this.coordinator.runWatchers();
    } catch (error) {
      this.logger.error(WATCHERS_FAILED(this.coordinator.memberId, error), stackOf(error));
    }
  }

  /** A push: run the watchers soon (several pushes close together make one run). */
  private pushed(): void {
    if (this.watchersJob) this.watchersJob.runSoon(PUSH_DEBOUNCE_MS);
    else this.pushedEarly = true;
  }

  private logEvent(event: CoordinationEvent): void {
    if (event instanceof LockLost) this.logger.warn(LOCK_LOST(event.name, event.memberId));
    else if (event instanceof LeadershipLost && !this.shutdown.underway)
      this.logger.warn(LEADERSHIP_LOST(event.groupId, event.memberId));
  }

  // ---- Shutdown --------------------------------------------------------------

  /**
   * Shutdown begins: calls still waiting for a lock give up, our jobs stop
   * (ScheduleModule, if the application has it, clears its registry at this
   * stage too), and from here until our teardown a private beat keeps
   * memberships, leaderships and the locks of running calls alive.
   */
  beforeApplicationShutdown(): void {
    this.beginShutdown();
  }

  async onApplicationShutdown(): Promise<void> {
    this.beginShutdown();
    try {
      await this.shutdown.finish();
    } finally {
      this.subscriptions.unsubscribe();
    }
  }

  /** Runs once, from whichever shutdown hook comes first, so the teardown never starts with jobs still mounted. */
  private beginShutdown(): void {
    const beating = this.heartbeatEveryMs !== undefined;
    this.shutdown.begin(beating ? { everyMs: () => this.heartbeatEveryMs!, run: () => this.beat() } : undefined);
  }
}

function stackOf(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
