import { ConfigurableModuleBuilder } from '@nestjs/common';
import { IMPORT_SCHEDULE_MODULE_OPTION } from './coordination.constants.js';
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
  // `importScheduleModule` is listed (undefined) so that it is taken out of the options in both forRoot and forRootAsync.
  .setExtras<CoordinationModuleExtras>({ isGlobal: true, importScheduleModule: undefined }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? true,
    // No ScheduleModule.forRoot() here: the heart uses the application's SchedulerRegistry, or one of its own.
    providers: [
      ...(definition.providers ?? []),
      ...(extras.importScheduleModule !== undefined
        ? [{ provide: IMPORT_SCHEDULE_MODULE_OPTION, useValue: extras.importScheduleModule }]
        : []),
    ],
  }))
  .build();
