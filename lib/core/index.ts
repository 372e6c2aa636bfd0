export * from './capabilities.js';
export * from './characteristic.js';
export * from './coordinator.js';
export * from './coordinator-options.js';
export * from './driver-registry.js';
export * from '../errors.js';
export * from './events.js';
export * from './lock.js';
