import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Capabilities } from '../core/capabilities.js';
import type { Characteristic } from '../core/characteristic.js';
import type { CoordinatorOptions } from '../core/coordinator.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, DEFAULT_URL, DEFAULT_WATCHERS_INTERVAL_MS } from './coordination.constants.js';
import { INVALID_OPTION } from './coordination.messages.js';
import type { CoordinationModuleOptions } from './interfaces/coordination-module-options.interface.js';

/** The module's options with every default filled in and every value checked. */
export interface ResolvedCoordinationOptions {
  url: string;
  memberId: string;
  heartbeat: { enabled: boolean | undefined; intervalMs: number | undefined };
  watchersIntervalMs: number;
  groups: ReadonlyMap<string, Capabilities | undefined>;
  characteristics: Characteristic[] | undefined;
  driverOptions: CoordinatorOptions;
  shutdownTimeoutMs: number;
}

/**
 * Fill in defaults and check the options once, when the module is
 * instantiated, so a typo fails the bootstrap with the option's name rather
 * than at the first tick.
 */
export function resolveCoordinationOptions(
  options: CoordinationModuleOptions | undefined,
): ResolvedCoordinationOptions {
  const given = options ?? {};
  if (typeof given !== 'object') throw new TypeError(INVALID_OPTION('object', 'an object', given));
  const url = given.url ?? DEFAULT_URL;
  if (typeof url !== 'string' || url.length === 0)
    throw new TypeError(INVALID_OPTION('url', 'a non-empty string', url));
  const memberId = given.memberId ?? defaultMemberId();
  if (typeof memberId !== 'string' || memberId.length === 0) {
    throw new TypeError(INVALID_OPTION('memberId', 'a non-empty string', memberId));
  }
  const enabled = given.heartbeat?.enabled;
  if (enabled !== undefined && typeof enabled !== 'boolean') {
    throw new TypeError(INVALID_OPTION('heartbeat.enabled', 'a boolean', enabled));
  }
  return {
    url,
    memberId,
    heartbeat: { enabled, intervalMs: positiveMs('heartbeat.intervalMs', given.heartbeat?.intervalMs) },
    watchersIntervalMs: positiveMs('watchers.intervalMs', given.watchers?.intervalMs) ?? DEFAULT_WATCHERS_INTERVAL_MS,
    groups: groupsOption(given.groups),
    characteristics: given.characteristics === undefined ? undefined : [...given.characteristics],
    driverOptions: driverOptions(given.driverOptions),
    shutdownTimeoutMs: positiveMs('shutdown.timeoutMs', given.shutdown?.timeoutMs, true) ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
  };
}

/** tooz members are often named after their host; the pid and a suffix keep two processes (or apps) apart. */
function defaultMemberId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

function positiveMs(option: string, value: unknown, zeroAllowed = false): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0)) {
    throw new TypeError(
      INVALID_OPTION(option, `a ${zeroAllowed ? 'non-negative' : 'positive'} number of milliseconds`, value),
    );
  }
  return value;
}

function groupsOption(groups: unknown): Map<string, Capabilities | undefined> {
  const resolved = new Map<string, Capabilities | undefined>();
  if (groups === undefined) return resolved;
  if (!Array.isArray(groups))
    throw new TypeError(INVALID_OPTION('groups', 'an array of { groupId, capabilities? }', groups));
  groups.forEach((group: unknown, index) => {
    const groupId = (group as { groupId?: unknown } | null)?.groupId;
    if (typeof groupId !== 'string' || groupId.length === 0) {
      throw new TypeError(INVALID_OPTION(`groups[${index}].groupId`, 'a non-empty string', groupId));
    }
    if (resolved.has(groupId)) {
      throw new TypeError(INVALID_OPTION(`groups[${index}].groupId`, 'listed once', groupId));
    }
    resolved.set(groupId, (group as { capabilities?: Capabilities }).capabilities);
  });
  return resolved;
}

function driverOptions(value: unknown): CoordinatorOptions {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(INVALID_OPTION('driverOptions', 'an object', value));
  }
  return value as CoordinatorOptions;
}
