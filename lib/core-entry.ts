// `nestjs-coordination/core`: the framework-free core, for a plain Node
// worker that has no @nestjs/* installed. It registers the built-in drivers
// and exports the coordinator, locks, errors and the hash ring; it loads
// nothing from lib/nest. The main entry (lib/index.ts) adds the Nest layer.
import './drivers/register.js';

export * from './core/index.js';
export * from './hashring/index.js';
