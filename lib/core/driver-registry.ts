import { Characteristic } from './characteristic.js';
import type { Coordinator } from './coordinator.js';
import type { CoordinatorOptions } from './coordinator-options.js';
import { CoordinationError, DriverChosenPoorlyError } from '../errors.js';
import { assertId } from './ids.js';
import { redactSecrets, redactUrl } from './url-options.js';

/** Builds an unstarted coordinator for one URL scheme (tooz's `tooz.backends` entry points). */
export type DriverFactory = (url: URL, memberId: string, options: CoordinatorOptions) => Coordinator;

const drivers = new Map<string, DriverFactory>();

/** Register (or replace) the driver for `scheme`, given without `://`. */
export function registerDriver(scheme: string, factory: DriverFactory): void {
  assertId(scheme, 'scheme');
  if (typeof factory !== 'function') throw new TypeError(`The driver factory for ${scheme} must be a function`);
  drivers.set(scheme.toLowerCase(), factory);
}

/** The schemes registered, for messages and introspection. */
export function registeredSchemes(): string[] {
  return [...drivers.keys()].sort();
}

/**
 * An unstarted coordinator for `url` (`memory://`, `redis://…`,
 * `postgresql://…`). URL query options keep tooz's names and units; a
 * same-meaning option in `options` wins.
 */
export function getCoordinator(url: string, memberId: string, options: CoordinatorOptions = {}): Coordinator {
  if (typeof url !== 'string' || url.length === 0) throw new TypeError('url must be a non-empty string');
  assertId(memberId, 'memberId');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CoordinationError(`Invalid coordination URL ${JSON.stringify(redactUrl(url))}`);
  }
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  const factory = drivers.get(scheme);
  if (!factory) {
    throw new CoordinationError(
      `No coordination driver for scheme ${scheme}:// (in ${redactUrl(parsed)}); registered schemes: ${registeredSchemes()
        .map((s) => `${s}://`)
        .join(', ')}`,
    );
  }
  const required = requiredCharacteristics(options.characteristics);
  let coordinator: Coordinator;
  try {
    coordinator = factory(parsed, memberId, options);
  } catch (error) {
    // A driver (ours or a third party's) may echo the URL it was given.
    if (error instanceof Error) {
      error.message = redactSecrets(error.message, url);
      if (typeof error.stack === 'string') error.stack = redactSecrets(error.stack, url);
    }
    throw error;
  }
  const missing = required.filter((c) => !coordinator.characteristics.has(c));
  if (missing.length > 0) throw new DriverChosenPoorlyError(missing, `${scheme}://`);
  return coordinator;
}

const KNOWN_CHARACTERISTICS = new Set<string>(Object.values(Characteristic));

function requiredCharacteristics(value: unknown): Characteristic[] {
  if (value === undefined) return [];
  if (typeof value === 'string' || typeof (value as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
    throw new TypeError('options.characteristics must be an iterable of Characteristic values, e.g. an array');
  }
  const list = [...(value as Iterable<unknown>)];
  const unknown = list.filter((c) => typeof c !== 'string' || !KNOWN_CHARACTERISTICS.has(c));
  if (unknown.length > 0) {
    throw new TypeError(`Unknown characteristics ${unknown.map(String).join(', ')} in options.characteristics`);
  }
  return list as Characteristic[];
}
