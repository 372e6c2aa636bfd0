export { MemoryCoordinator, memoryDriver } from './memory-coordinator.js';
export { MemoryDriver } from './memory-driver.js';
