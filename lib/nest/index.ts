// The NestJS layer. The health indicator needs the optional @nestjs/terminus,
// so it is exported from './health/index.js' only, never from here.
export { COORDINATION_HEARTBEAT_JOB, COORDINATION_WATCHERS_JOB } from './coordination.constants.js';
export { COORDINATION_MODULE_OPTIONS } from './coordination.module-definition.js';
export * from './coordination.module.js';
export * from './decorators/index.js';
export * from './interfaces/coordination-metadata.interface.js';
export * from './interfaces/coordination-module-options.interface.js';
export { currentLock, currentLockSignal } from './lock-context.js';
