import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Subscription } from 'rxjs';
import { Coordinator } from '../core/coordinator.js';
import type { WatchCallback } from '../core/coordinator-options.js';
import { CoordinationError, GroupAlreadyExistError, MemberAlreadyExistError } from '../core/errors.js';
import { type CoordinationEvent, LeadershipLost, LockLost } from '../core/events.js';
import {
  COORDINATION_HEARTBEAT_JOB,
  COORDINATION_LOGGER_CONTEXT,
  COORDINATION_WATCHERS_JOB,
  MAX_TIMER_MS,
  RESOLVED_COORDINATION_OPTIONS,
} from './coordination.constants.js';
import {
  ALREADY_MEMBER,
  CALLS_STILL_RUNNING,
  HANDLER_FAILED,
  HEARTBEAT_FAILED,
  HEARTBEAT_TOO_SLOW,
  JOBS_STILL_RUNNING,
  LEADERSHIP_LOST,
  LOCK_LOST,
  SCHEDULER_REGISTRY_MISSING,
  SHUTDOWN_STEP_FAILED,
  WATCHERS_FAILED,
} from './coordination.messages.js';
import type { ResolvedCoordinationOptions } from './coordination-options.resolver.js';
import { settledBy } from './deadline.js';
import { GuardedCalls } from './guarded-calls.js';
import { GuardedMethodRunner } from './guarded-method.runner.js';
import type { GroupEventKind } from './interfaces/coordination-metadata.interface.js';

/** A group-event handler method the explorer found. */
export interface HandlerMethod {
  instance: object;
  key: string;
  /** `@OnMemberJoined()`…, for messages. */
  decorator: string;
  /** `Class.method`, for messages. */
  where: string;
}

interface GroupHandler {
  event: GroupEventKind;
  groupId: string;
  callback: WatchCallback<unknown>;
}

/** What each job does, for messages. */
const JOB_DESCRIPTIONS: Record<string, string> = {
  [COORDINATION_HEARTBEAT_JOB]: 'heartbeat',
  [COORDINATION_WATCHERS_JOB]: 'watchers run',
};

/**
 * The module's lifecycle in one place. At bootstrap it starts the
 * coordinator, joins the configured groups and those the decorators need,
 * registers the watchers the explorer found, runs one election at once, and
 * schedules `heartbeat()` and `runWatchers()` as named intervals in
 * `@nestjs/schedule`'s `SchedulerRegistry`. At shutdown it waits, for
 * `shutdown.timeoutMs` at most, for a job run in progress and for guarded
 * calls, then stands down, leaves its groups and stops the coordinator.
 *
 * Nest runs the hooks of imported modules before those of their importers
 * at bootstrap, and after them at shutdown (global modules, this one by
 * default, count as imported by all, in the order the application lists
 * them). So the coordinator is started and elections held before the
 * `onApplicationBootstrap` of the modules that use it, and stays usable until
 * their `onApplicationShutdown` has returned.
 */
@Injectable()
export class CoordinationHeart implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(COORDINATION_LOGGER_CONTEXT);
  private readonly registry: SchedulerRegistry;
  private readonly leaderGroups = new Set<string>();
  private readonly handlers: GroupHandler[] = [];
  /** Groups joined at bootstrap, to leave at shutdown. */
  private readonly joined = new Set<string>();
  private readonly jobs = new Map<string, NodeJS.Timeout>();
  private readonly runningJobs = new Map<string, Promise<void>>();
  private heartbeatEveryMs: number | undefined;
  /** Beats between the scheduler's teardown and ours, so held locks survive the wait for running calls. */
  private shutdownBeat: NodeJS.Timeout | undefined;
  private eventLog: Subscription | undefined;
  private stopping = false;

  constructor(
    @Inject(Coordinator) private readonly coordinator: Coordinator,
    @Inject(RESOLVED_COORDINATION_OPTIONS) private readonly options: ResolvedCoordinationOptions,
    private readonly calls: GuardedCalls,
    private readonly runner: GuardedMethodRunner,
    @Optional() @Inject(SchedulerRegistry) registry: SchedulerRegistry | undefined,
  ) {
    if (!registry) throw new CoordinationError(SCHEDULER_REGISTRY_MISSING());
    this.registry = registry;
  }

  // ---- What the explorer found ---------------------------------------------

  /** A `@Leader(groupId)` method exists: join `groupId` and run for it. */
  addLeaderGroup(groupId: string): void {
    this.leaderGroups.add(groupId);
  }

  addGroupHandler(event: GroupEventKind, groupId: string, handler: HandlerMethod): void {
    this.handlers.push({ event, groupId, callback: this.watchCallback(handler) });
  }

  /** Calls the handler on its instance; a throw is logged with the handler's name, never propagated. */
  private watchCallback({ instance, key, decorator, where }: HandlerMethod): WatchCallback<unknown> {
    return async (event) => {
      try {
        return await (instance as Record<string, (event: unknown) => unknown>)[key]!.call(instance, event);
      } catch (error) {
        this.logger.error(HANDLER_FAILED(decorator, where, error), stackOf(error));
        return undefined;
      }
    };
  }

  // ---- Bootstrap -------------------------------------------------------------

  async onApplicationBootstrap(): Promise<void> {
    await this.coordinator.start();
    try {
      this.eventLog = this.coordinator.events$.subscribe((event) => this.logEvent(event));
      if (this.options.heartbeat.enabled ?? this.coordinator.requiresBeating) {
        this.heartbeatEveryMs = await this.firstBeat();
      }
      await this.joinGroups();
      await this.registerWatchers();
      // Elect at once, so a lone instance leads as soon as the application is up.
      await this.runWatchers();
      if (this.heartbeatEveryMs !== undefined) {
        this.mount(COORDINATION_HEARTBEAT_JOB, this.heartbeatEveryMs, () => this.beat());
      }
      this.mount(COORDINATION_WATCHERS_JOB, this.options.watchersIntervalMs, () => this.runWatchers());
    } catch (error) {
      this.unmountAll();
      this.eventLog?.unsubscribe();
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

  /** Configured groups with their capabilities, then the groups candidates must be in. */
  private async joinGroups(): Promise<void> {
    const wanted = new Map(this.options.groups);
    for (const groupId of this.candidacyGroups()) if (!wanted.has(groupId)) wanted.set(groupId, undefined);
    for (const [groupId, capabilities] of wanted) {
      try {
        await this.coordinator.joinGroupCreate(groupId, capabilities);
      } catch (error) {
        if (!(error instanceof MemberAlreadyExistError)) throw error;
        this.logger.warn(ALREADY_MEMBER(groupId, this.coordinator.memberId));
        if (capabilities !== undefined) await this.coordinator.updateCapabilities(groupId, capabilities);
      }
      this.joined.add(groupId);
    }
  }

  private async registerWatchers(): Promise<void> {
    for (const { event, groupId, callback } of this.handlers) {
      if (event === 'elected') continue;
      // Watching needs the group; another member may create and fill it later.
      await this.coordinator.createGroup(groupId).catch((error: unknown) => {
        if (!(error instanceof GroupAlreadyExistError)) throw error;
      });
      if (event === 'joined') await this.coordinator.watchJoinGroup(groupId, callback);
      else await this.coordinator.watchLeaveGroup(groupId, callback);
    }
    for (const groupId of this.leaderGroups) await this.coordinator.watchElectedAsLeader(groupId, () => undefined);
    for (const { event, groupId, callback } of this.handlers) {
      if (event === 'elected') await this.coordinator.watchElectedAsLeader(groupId, callback);
    }
  }

  /** Groups this member runs for: `@Leader()` and `@OnLeaderElected()`. */
  private candidacyGroups(): Set<string> {
    const groups = new Set(this.leaderGroups);
    for (const { event, groupId } of this.handlers) if (event === 'elected') groups.add(groupId);
    return groups;
  }

  // ---- The jobs --------------------------------------------------------------

  private mount(name: string, everyMs: number, run: () => Promise<void>): void {
    // Options are checked against the timer limit; a driver's interval is capped (beating sooner is harmless).
    const ref = setInterval(() => this.tick(name, run), Math.min(everyMs, MAX_TIMER_MS));
    this.jobs.set(name, ref);
    this.registry.addInterval(name, ref);
  }

  private unmount(name: string): void {
    const ref = this.jobs.get(name);
    if (!ref) return;
    clearInterval(ref);
    this.jobs.delete(name);
    // ScheduleModule deletes every registered job before our shutdown hook runs; delete only what is still ours.
    if (this.registry.doesExist('interval', name) && this.registry.getInterval(name) === ref) {
      this.registry.deleteInterval(name);
    }
  }

  private unmountAll(): void {
    for (const name of [...this.jobs.keys()]) this.unmount(name);
  }

  /** One run at a time per job: a slow backend skips ticks rather than piling calls up. */
  private tick(name: string, run: () => Promise<void>): void {
    if (this.stopping || this.runningJobs.has(name)) return;
    const running = run().finally(() => this.runningJobs.delete(name));
    this.runningJobs.set(name, running);
  }

  /** Each tick calls the coordinator's public `heartbeat()`; failures are logged and retried next tick. */
  private async beat(): Promise<void> {
    let neededMs: number;
    try {
      neededMs = await this.coordinator.heartbeat();
    } catch (error) {
      this.logger.error(HEARTBEAT_FAILED(this.coordinator.memberId, error), stackOf(error));
      return;
    }
    // Follow the driver if the interval it asks for changes (unless the user fixed one).
    if (this.options.heartbeat.intervalMs === undefined && neededMs !== this.heartbeatEveryMs && !this.stopping) {
      this.heartbeatEveryMs = neededMs;
      this.unmount(COORDINATION_HEARTBEAT_JOB);
      this.mount(COORDINATION_HEARTBEAT_JOB, neededMs, () => this.beat());
    }
  }

  private async runWatchers(): Promise<void> {
    try {
      await this.coordinator.runWatchers();
    } catch (error) {
      this.logger.error(WATCHERS_FAILED(this.coordinator.memberId, error), stackOf(error));
    }
  }

  private logEvent(event: CoordinationEvent): void {
    if (event instanceof LockLost) this.logger.warn(LOCK_LOST(event.name, event.memberId));
    else if (event instanceof LeadershipLost && !this.stopping)
      this.logger.warn(LEADERSHIP_LOST(event.groupId, event.memberId));
  }

  // ---- Shutdown --------------------------------------------------------------

  /**
   * Shutdown begins: calls still waiting for a lock give up, our jobs stop
   * (ScheduleModule clears its registry at this stage too), and from here
   * until our teardown a private beat keeps memberships, leaderships and the
   * locks of running calls alive.
   */
  beforeApplicationShutdown(): void {
    this.beginShutdown();
  }

  /** Runs once, from whichever shutdown hook comes first, so the teardown never starts with jobs still mounted. */
  private beginShutdown(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.calls.beginShutdown();
    this.unmountAll();
    if (this.coordinator.isStarted && this.heartbeatEveryMs !== undefined && !this.shutdownBeat) {
      let beating = false;
      this.shutdownBeat = setInterval(() => {
        if (beating) return;
        beating = true;
        this.coordinator
          .heartbeat()
          .catch((error: unknown) =>
            this.logger.error(HEARTBEAT_FAILED(this.coordinator.memberId, error), stackOf(error)),
          )
          .finally(() => (beating = false));
      }, this.heartbeatEveryMs);
      this.shutdownBeat.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.beginShutdown();
    // One budget for everything shutdown waits for: a job run in progress, then the guarded calls.
    const timeoutMs = this.options.shutdownTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    try {
      await this.waitForJobs(deadline);
      if (!this.coordinator.isStarted) return;
      const stillRunning = await this.calls.drain(deadline);
      if (stillRunning > 0) this.logger.warn(CALLS_STILL_RUNNING(stillRunning, timeoutMs));
      clearInterval(this.shutdownBeat);
      for (const groupId of this.candidacyGroups()) {
        if (this.coordinator.isLeaderOf(groupId)) {
          await this.step(`standing down from group ${groupId}`, () => this.coordinator.standDownGroupLeader(groupId));
        }
      }
      for (const groupId of this.joined) {
        if (this.coordinator.groups.has(groupId)) {
          await this.step(`leaving group ${groupId}`, () => this.coordinator.leaveGroup(groupId));
        }
      }
      // stop() releases the locks of calls that outlived the wait, and disconnects.
      await this.step(`stopping coordinator ${this.coordinator.memberId}`, () => this.coordinator.stop());
    } finally {
      clearInterval(this.shutdownBeat);
      this.eventLog?.unsubscribe();
      this.runner.unbindAll();
    }
  }

  /** A beat or watchers run (and the handlers it calls) may hang on a backend that does not answer. */
  private async waitForJobs(deadline: number): Promise<void> {
    if (await settledBy([...this.runningJobs.values()], deadline)) return;
    const jobs = [...this.runningJobs.keys()].map((name) => JOB_DESCRIPTIONS[name] ?? name);
    this.logger.warn(JOBS_STILL_RUNNING(jobs, this.coordinator.memberId, this.options.shutdownTimeoutMs));
  }

  /** Shutdown goes on past a failing step: the backend may be the thing that is down. */
  private async step(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.error(SHUTDOWN_STEP_FAILED(what, error), stackOf(error));
    }
  }
}

function stackOf(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
