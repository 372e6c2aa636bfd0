import { ConfigurableModuleBuilder } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type {
  CoordinationModuleExtras,
  CoordinationModuleOptions,
} from './interfaces/coordination-module-options.interface.js';

export const {
  ConfigurableModuleClass: ConfigurableCoordinationModule,
  MODULE_OPTIONS_TOKEN: COORDINATION_MODULE_OPTIONS,
  OPTIONS_TYPE: COORDINATION_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: COORDINATION_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CoordinationModuleOptions>({ moduleName: 'Coordination' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createCoordinationOptions')
  .setExtras<CoordinationModuleExtras>({ isGlobal: true, importScheduleModule: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? true,
    imports: [
      ...(definition.imports ?? []),
      // The heart's jobs live in SchedulerRegistry, which only ScheduleModule.forRoot() provides.
      ...((extras.importScheduleModule ?? true) ? [ScheduleModule.forRoot()] : []),
    ],
  }))
  .build();
