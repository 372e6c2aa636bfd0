import { registerDriver } from '../core/driver-registry.js';
import { MemoryCoordinator } from './memory/memory-coordinator.js';
import { PostgresCoordinator } from './postgres/postgres-coordinator.js';
import { RedisCoordinator } from './redis/redis-coordinator.js';

// The built-in drivers. Network drivers load their client library (ioredis,
// pg) only when a coordinator of their scheme starts.
registerDriver('memory', (url, memberId, options) => new MemoryCoordinator(url, memberId, options));
registerDriver('redis', (url, memberId, options) => new RedisCoordinator(url, memberId, options));
registerDriver('rediss', (url, memberId, options) => new RedisCoordinator(url, memberId, options));
registerDriver('postgresql', (url, memberId, options) => new PostgresCoordinator(url, memberId, options));
registerDriver('postgres', (url, memberId, options) => new PostgresCoordinator(url, memberId, options));
