import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { CoordinationError } from '../core/errors.js';
import { DUPLICATE_SCHEDULE_MODULE, NON_STATIC_PROVIDER } from './coordination.messages.js';
import { CoordinationHeart } from './coordination.heart.js';
import { CoordinationMetadataAccessor } from './coordination-metadata.accessor.js';
import { GuardedMethodFactory } from './guarded-method.factory.js';
import type { GroupEventKind } from './interfaces/coordination-metadata.interface.js';

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

const EVENT_DECORATORS: Record<GroupEventKind, string> = {
  joined: '@OnMemberJoined()',
  left: '@OnMemberLeft()',
  elected: '@OnLeaderElected()',
};

/**
 * Walks every provider and controller at `onModuleInit`, asks the accessor
 * what each method carries, installs the guarded `@Leader()`/`@WithLock()`
 * wrapper on the instance, and hands groups and handlers to the heart.
 */
@Injectable()
export class CoordinationExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: CoordinationMetadataAccessor,
    private readonly guards: GuardedMethodFactory,
    private readonly heart: CoordinationHeart,
    private readonly modules: ModulesContainer,
  ) {
    this.runHooksFirst();
  }

  /**
   * `@nestjs/schedule`'s explorer reads `instance[method]` in its own
   * `onModuleInit` and keeps that function: the wrapper must be on the
   * instance before then, or a `@Leader()` + `@Interval()` method would run
   * unguarded. Nest runs module hooks by descending `distance` (every global
   * module has `Number.MAX_VALUE`, ties in import order), so whether
   * ScheduleModule or we came first would depend on how the application
   * lists its imports. Our module takes the front of the line here, during
   * instantiation, before Nest sorts modules for the first hook. In return
   * its shutdown hooks run last, after every provider that may still call a
   * guarded method.
   */
  private runHooksFirst(): void {
    for (const moduleRef of this.modules.values()) {
      if (moduleRef.providers.has(CoordinationExplorer)) moduleRef.distance = Number.POSITIVE_INFINITY;
    }
  }

  onModuleInit(): void {
    this.assertOneScheduler();
    const seen = new WeakMap<object, Set<string>>();
    for (const wrapper of [...this.discovery.getControllers(), ...this.discovery.getProviders()]) {
      for (const instance of instancesOf(wrapper)) {
        const prototype = Object.getPrototypeOf(instance);
        if (!prototype) continue;
        const done = seen.get(instance) ?? new Set<string>();
        seen.set(instance, done);
        for (const key of this.scanner.getAllMethodNames(prototype)) {
          if (done.has(key)) continue;
          done.add(key);
          this.explore(wrapper, instance, key);
        }
      }
    }
  }

  private explore(wrapper: InstanceWrapper, instance: object, key: string): void {
    const method = (instance as Record<string, unknown>)[key];
    if (typeof method !== 'function') return;
    const leader = this.accessor.getLeader(method);
    const lock = this.accessor.getWithLock(method);
    const events = this.accessor.getGroupEvents(method);
    if (!leader && !lock && events.length === 0) return;

    const where = `${wrapper.metatype?.name || wrapper.name || instance.constructor.name}.${key}`;
    if (!wrapper.isDependencyTreeStatic()) {
      const decorators = [
        ...(leader ? ['@Leader()'] : []),
        ...(lock ? ['@WithLock()'] : []),
        ...events.map(({ event }) => EVENT_DECORATORS[event]),
      ];
      throw new CoordinationError(NON_STATIC_PROVIDER(decorators.join(', '), where));
    }
    if (leader || lock) this.guards.install(instance, key, { leader, lock }, where);
    if (leader) this.heart.addLeaderGroup(leader.groupId);
    for (const { event, groupId } of events) {
      this.heart.addGroupHandler(event, groupId, this.guards.handler(instance, key, EVENT_DECORATORS[event], where));
    }
  }

  /** A second `ScheduleModule.forRoot()` is a second scheduler (Nest 12 keys dynamic modules by reference). */
  private assertOneScheduler(): void {
    const count = [...this.modules.values()].filter((moduleRef) => moduleRef.metatype === ScheduleModule).length;
    if (count > 1) throw new CoordinationError(DUPLICATE_SCHEDULE_MODULE(count));
  }
}

/** The instances a wrapper stands for: one, or for a transient provider one per consumer. */
function instancesOf(wrapper: InstanceWrapper): object[] {
  const candidates: unknown[] = wrapper.isTransient
    ? [wrapper.instance, ...wrapper.getStaticTransientInstances().map((entry) => entry?.instance)]
    : [wrapper.instance];
  return candidates.filter((instance): instance is object => typeof instance === 'object' && instance !== null);
}
