import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Coordinator } from '../core/coordinator.js';
import { CoordinationExplorer } from './coordination.explorer.js';
import { CoordinationHooks } from './coordination.hooks.js';
import { CoordinationShutdown } from './coordination.shutdown.js';
import {
  type COORDINATION_ASYNC_OPTIONS_TYPE,
  type COORDINATION_OPTIONS_TYPE,
  ConfigurableCoordinationModule,
} from './coordination.module-definition.js';
import { CoordinationMetadataAccessor } from './coordination-metadata.accessor.js';
import { coordinatorProvider, resolvedOptionsProvider } from './coordinator.provider.js';
import { GuardedCalls } from './guarded-calls.js';
import { GuardedMethodRunner } from './guarded-method.runner.js';
import { CoordinationJobs } from './coordination.jobs.js';
import { MemberGroups } from './member-groups.js';

/**
 * Distributed coordination for a Nest application: a `Coordinator` to
 * inject, `@Leader()`, `@WithLock()` and group-event handlers, and a heart
 * that keeps it all alive. It works with or without the application's own
 * `ScheduleModule.forRoot()`, in any import order, and never imports one.
 *
 * ```ts
 * CoordinationModule.forRoot({ url: 'redis://localhost:6379', groups: [{ groupId: 'workers' }] })
 * CoordinationModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (c) => ({ url: c.get('URL') }) })
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    resolvedOptionsProvider,
    coordinatorProvider,
    CoordinationMetadataAccessor,
    GuardedCalls,
    GuardedMethodRunner,
    MemberGroups,
    CoordinationJobs,
    CoordinationShutdown,
    CoordinationHooks,
    CoordinationExplorer,
  ],
  exports: [Coordinator],
})
export class CoordinationModule extends ConfigurableCoordinationModule {
  static override forRoot(options: typeof COORDINATION_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof COORDINATION_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
