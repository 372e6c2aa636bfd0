export { MemoryCoordinator } from './memory-coordinator.js';
