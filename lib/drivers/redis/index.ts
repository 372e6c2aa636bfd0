export { RedisDriver } from './redis-driver.js';
export { type RedisLockKeyStyle, redisSettings } from './redis-options.js';
