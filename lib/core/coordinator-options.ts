import type { Capabilities } from './capabilities.js';
import type { Characteristic } from './characteristic.js';
import type { CoordinationEvent } from './events.js';

export interface CoordinatorLogger {
  warn(message: string): void;
}

export interface CoordinatorOptions {
  /** Characteristics the caller requires; `getCoordinator` refuses a driver lacking any. */
  characteristics?: Iterable<Characteristic>;
  /** Membership timeout (URL `timeout`, in seconds there). */
  membershipTimeoutMs?: number;
  /** Lock and leadership timeout (URL `lock_timeout`, in seconds there). */
  lockTimeoutMs?: number;
  /** How long `start()` may take to connect (URL `socket_connect_timeout` / `connect_timeout`). */
  connectTimeoutMs?: number;
  /** How long `stop()` lets operations in flight finish before it disconnects anyway; 10 000 by default. */
  stopTimeoutMs?: number;
  /** Where the background heart reports a failed beat; `console` by default. */
  logger?: CoordinatorLogger;
  /**
   * What a third-party driver documents beside these. Every driver refuses a
   * name it does not know, as it refuses an unknown URL option, so a misspelt
   * `lockTimeoutMS` fails `getCoordinator()` instead of leaving the default.
   */
  [option: string]: unknown;
}

export interface StartOptions {
  /** Beat in the background at the interval `heartbeat()` returns. */
  startHeart?: boolean;
}

export interface MemberInfo {
  capabilities: Capabilities;
  /** When the member joined. */
  createdAt: Date;
  /** The last write of its capabilities (join or `updateCapabilities`). */
  updatedAt: Date;
}

/** What a driver stores per member: encoded capabilities and the two times. */
export interface StoredMember {
  capabilities: Uint8Array;
  createdAt: Date;
  updatedAt: Date;
}

export type WatchCallback<E = CoordinationEvent> = (event: E) => unknown;

export interface PartitionOptions {
  weight?: number;
  partitions?: number;
}
