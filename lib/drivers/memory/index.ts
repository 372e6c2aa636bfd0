export { memoryDriver, memoryTimeouts } from './memory-options.js';
export { MemoryDriver } from './memory-driver.js';
