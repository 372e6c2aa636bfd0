// The main entry: the framework-free core (also `nestjs-coordination/core`)
// plus the NestJS module and decorators.
export * from './core-entry.js';
export * from './nest/index.js';
