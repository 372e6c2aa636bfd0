import { coordinatorFor } from '../core/coordinator.js';
import type { Backend } from '../core/backend.js';
import type { CoordinatorOptions } from '../core/coordinator-options.js';
import { registerDriver } from '../core/driver-registry.js';
import { memoryDriver } from './memory/memory-options.js';
import { PostgresDriver } from './postgres/postgres-driver.js';
import { postgresSettings } from './postgres/postgres-options.js';
import { RedisDriver } from './redis/redis-driver.js';
import { redisSettings } from './redis/redis-options.js';

type BackendFactory = (url: URL, memberId: string, options: CoordinatorOptions) => Backend;

/** Each built-in driver is a `Backend`; the core's `Coordinator` is written once on top of it. */
function register(schemes: string[], backend: BackendFactory): void {
  for (const scheme of schemes) {
    registerDriver(scheme, (url, memberId, options) =>
      coordinatorFor(backend(url, memberId, options), memberId, options),
    );
  }
}

// The built-in drivers. Network drivers load their client library (ioredis,
// pg) only when a coordinator of their scheme starts.
register(['memory'], memoryDriver);
register(['redis', 'rediss'], (url, memberId, options) => new RedisDriver(redisSettings(url, options), memberId));
register(
  ['postgresql', 'postgres'],
  (url, memberId, options) => new PostgresDriver(postgresSettings(url, options), memberId),
);
