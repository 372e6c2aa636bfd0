import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Capabilities } from '../core/capabilities.js';
import { Characteristic } from '../core/characteristic.js';
import type { CoordinatorOptions } from '../core/coordinator-options.js';
import {
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_URL,
  DEFAULT_WATCHERS_INTERVAL_MS,
  MAX_TIMER_MS,
} from './coordination.constants.js';
import { INVALID_OPTION, OPTION_BEYOND_TIMER, UNKNOWN_OPTION } from './coordination.messages.js';
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
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new TypeError(INVALID_OPTION('object', 'an object', given));
  }
  // A misspelt key (`urll`, `hearbeat`) would otherwise fall back to a default silently.
  knownKeys('', given, TOP_LEVEL_OPTIONS);
  const url = given.url ?? DEFAULT_URL;
  if (typeof url !== 'string' || url.length === 0)
    throw new TypeError(INVALID_OPTION('url', 'a non-empty string', url));
  const memberId = given.memberId ?? defaultMemberId();
  if (typeof memberId !== 'string' || memberId.length === 0) {
    throw new TypeError(INVALID_OPTION('memberId', 'a non-empty string', memberId));
  }
  const heartbeat = section('heartbeat', ['enabled', 'intervalMs'], given.heartbeat);
  const watchers = section('watchers', ['intervalMs'], given.watchers);
  const shutdown = section('shutdown', ['timeoutMs'], given.shutdown);
  const enabled = heartbeat.enabled;
  if (enabled !== undefined && typeof enabled !== 'boolean') {
    throw new TypeError(INVALID_OPTION('heartbeat.enabled', 'a boolean', enabled));
  }
  return {
    url,
    memberId,
    heartbeat: { enabled, intervalMs: timerMs('heartbeat.intervalMs', heartbeat.intervalMs) },
    watchersIntervalMs: timerMs('watchers.intervalMs', watchers.intervalMs) ?? DEFAULT_WATCHERS_INTERVAL_MS,
    groups: groupsOption(given.groups),
    characteristics: characteristicsOption(given.characteristics),
    driverOptions: driverOptions(given.driverOptions),
    shutdownTimeoutMs: timerMs('shutdown.timeoutMs', shutdown.timeoutMs, true) ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
  };
}

/** Every key the module takes at the top level, the `ConfigurableModuleBuilder` extras included. */
const TOP_LEVEL_OPTIONS = [
  'url',
  'memberId',
  'heartbeat',
  'watchers',
  'groups',
  'characteristics',
  'driverOptions',
  'shutdown',
  'isGlobal',
  'importScheduleModule',
];

function knownKeys(prefix: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      throw new TypeError(
        UNKNOWN_OPTION(
          `${prefix}${key}`,
          known.map((k) => prefix + k),
        ),
      );
  }
}

/** `heartbeat`, `watchers`, `shutdown`: an object whose fields are checked one by one. */
function section(option: string, fields: readonly string[], value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(INVALID_OPTION(option, `an object { ${fields.map((f) => `${f}?`).join(', ')} }`, value));
  }
  knownKeys(`${option}.`, value, fields);
  return value as Record<string, unknown>;
}

/** tooz members are often named after their host; the pid and a suffix keep two processes (or apps) apart. */
function defaultMemberId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** A delay handed to a Node timer: beyond `MAX_TIMER_MS` Node fires it after 1 ms instead. */
function timerMs(option: string, value: unknown, zeroAllowed = false): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!zeroAllowed && value === 0)) {
    throw new TypeError(
      INVALID_OPTION(option, `a ${zeroAllowed ? 'non-negative' : 'positive'} number of milliseconds`, value),
    );
  }
  if (value > MAX_TIMER_MS) throw new TypeError(OPTION_BEYOND_TIMER(option, MAX_TIMER_MS, value));
  return value;
}

const CHARACTERISTICS = new Set<unknown>(Object.values(Characteristic));

/** An iterable of `Characteristic`s; a lone string would be iterated letter by letter. */
function characteristicsOption(value: unknown): Characteristic[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' || typeof (value as Iterable<unknown> | null)?.[Symbol.iterator] !== 'function') {
    throw new TypeError(INVALID_OPTION('characteristics', 'an array of Characteristic values', value));
  }
  const characteristics = [...(value as Iterable<unknown>)];
  characteristics.forEach((characteristic, index) => {
    if (!CHARACTERISTICS.has(characteristic)) {
      throw new TypeError(
        INVALID_OPTION(`characteristics[${index}]`, `one of ${[...CHARACTERISTICS].join(', ')}`, characteristic),
      );
    }
  });
  return characteristics as Characteristic[];
}

function groupsOption(groups: unknown): Map<string, Capabilities | undefined> {
  const resolved = new Map<string, Capabilities | undefined>();
  if (groups === undefined) return resolved;
  if (!Array.isArray(groups))
    throw new TypeError(INVALID_OPTION('groups', 'an array of { groupId, capabilities? }', groups));
  groups.forEach((group: unknown, index) => {
    if (typeof group === 'object' && group !== null) knownKeys(`groups[${index}].`, group, ['groupId', 'capabilities']);
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
