import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { CoordinationError } from '../errors.js';
import { COORDINATION_LOGGER_CONTEXT } from './coordination.constants.js';
import {
  describeMember,
  DUPLICATE_SCHEDULE_MODULE,
  NON_STATIC_PROVIDER,
  SCHEDULE_MODULE_MISSING,
} from './coordination.messages.js';
import { CoordinationMetadataAccessor } from './coordination-metadata.accessor.js';
import { GuardedMethodRunner } from './guarded-method.runner.js';
import type { GroupEventKind } from './interfaces/coordination-metadata.interface.js';
import { MemberGroups } from './member-groups.js';

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

const EVENT_DECORATORS: Record<GroupEventKind, string> = {
  joined: '@OnMemberJoined()',
  left: '@OnMemberLeft()',
  elected: '@OnLeaderElected()',
};

/**
 * Walks every provider and controller at `onModuleInit` and asks the accessor
 * what each method carries. Instances with `@Leader()`/`@WithLock()` methods
 * are bound to this application's runner (the decorators' wrapper looks the
 * runner up at each call); groups and group-event handlers go to
 * `MemberGroups`. It also checks the application's `ScheduleModule`: none
 * while methods are scheduled is worth a warning (this module used to import
 * it for the application), two would run every job twice.
 */
@Injectable()
export class CoordinationExplorer implements OnModuleInit {
  private readonly logger = new Logger(COORDINATION_LOGGER_CONTEXT);
  /** `@Cron()`… methods seen, `Class.method (@Cron())`, for the warning when no ScheduleModule runs them. */
  private readonly scheduled: string[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: CoordinationMetadataAccessor,
    private readonly runner: GuardedMethodRunner,
    private readonly groups: MemberGroups,
    private readonly modules: ModulesContainer,
  ) {}

  onModuleInit(): void {
    const scheduleModules = this.scheduleModuleCount();
    if (scheduleModules > 1) throw new CoordinationError(DUPLICATE_SCHEDULE_MODULE(scheduleModules));
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getControllers(), ...this.discovery.getProviders()]) {
      if (!wrapper.isDependencyTreeStatic()) {
        this.refuseDecorated(wrapper);
        continue;
      }
      for (const instance of instancesOf(wrapper)) {
        // One instance may stand behind several tokens (useExisting, an alias).
        if (seen.has(instance)) continue;
        seen.add(instance);
        for (const key of this.methodNames(instance)) this.explore(instance, key);
      }
    }
    if (scheduleModules === 0 && this.scheduled.length > 0) this.logger.warn(SCHEDULE_MODULE_MISSING(this.scheduled));
  }

  private explore(instance: object, key: string): void {
    const { leader, lock, events, schedule } = this.decorationsOf(instance, key);
    if (schedule) this.scheduled.push(`${describeMember(instance, key)} (${schedule})`);
    if (!leader && !lock && events.length === 0) return;
    const where = describeMember(instance, key);
    if (leader || lock) this.runner.bind(instance, where);
    if (leader) this.groups.addLeaderGroup(leader.groupId);
    for (const { event, groupId } of events) {
      this.groups.addGroupHandler(event, groupId, { instance, key, decorator: EVENT_DECORATORS[event], where });
    }
  }

  /**
   * A request-scoped provider (or one depending on one) has no instance at
   * bootstrap for the heart to call or the application to own: refuse our
   * decorators on it, naming them. Its `instance` is Nest's placeholder on the
   * class prototype, enough to read the metadata.
   */
  private refuseDecorated(wrapper: InstanceWrapper): void {
    const placeholder: unknown = wrapper.instance;
    if (typeof placeholder !== 'object' || placeholder === null) return;
    for (const key of this.methodNames(placeholder)) {
      const { leader, lock, events } = this.decorationsOf(placeholder, key);
      const decorators = [
        ...(leader ? ['@Leader()'] : []),
        ...(lock ? ['@WithLock()'] : []),
        ...events.map(({ event }) => EVENT_DECORATORS[event]),
      ];
      if (decorators.length > 0) {
        throw new CoordinationError(NON_STATIC_PROVIDER(decorators.join(', '), describeMember(placeholder, key)));
      }
    }
  }

  private methodNames(instance: object): string[] {
    const prototype: unknown = Object.getPrototypeOf(instance);
    return prototype ? this.scanner.getAllMethodNames(prototype as object) : [];
  }

  private decorationsOf(instance: object, key: string) {
    const method = (instance as Record<string, unknown>)[key];
    if (typeof method !== 'function') return { leader: undefined, lock: undefined, events: [], schedule: undefined };
    return {
      leader: this.accessor.getLeader(method),
      lock: this.accessor.getWithLock(method),
      events: this.accessor.getGroupEvents(method),
      schedule: this.accessor.getScheduleDecorator(method),
    };
  }

  /** Each `ScheduleModule.forRoot()` is a scheduler of its own (Nest 12 keys dynamic modules by reference). */
  private scheduleModuleCount(): number {
    return [...this.modules.values()].filter((moduleRef) => moduleRef.metatype === ScheduleModule).length;
  }
}

/**
 * The instances a wrapper stands for: its one instance, or for a transient
 * provider the one Nest built per consumer (its `instance` is a placeholder
 * on the prototype whose constructor never ran).
 */
function instancesOf(wrapper: InstanceWrapper): object[] {
  const candidates: unknown[] = wrapper.isTransient
    ? wrapper.getStaticTransientInstances().map((entry) => entry?.instance)
    : [wrapper.instance];
  return candidates.filter((instance): instance is object => typeof instance === 'object' && instance !== null);
}
