export { LockKeys, toozPair } from './lock-keys.js';
export { PostgresDriver, WAITER_POLL_MS } from './postgres-driver.js';
export { type PostgresLockKeyStyle, type PostgresSettings, postgresSettings } from './postgres-options.js';
