import { CoordinationError } from './errors.js';

/**
 * URL query options as tooz reads them: the last value of a repeated key
 * wins and blank values are dropped (tooz's `collapse` over `parse_qs`).
 */
export function queryOptions(url: URL): Map<string, string> {
  const options = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    if (value !== '') options.set(key, value);
  }
  return options;
}

/**
 * Refuse options the driver does not know: a misspelt `timout=` would
 * otherwise leave the default in force without a word.
 */
export function assertKnownOptions(options: Map<string, string>, known: readonly string[], url: URL): void {
  const unknown = [...options.keys()].filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new CoordinationError(
      `Unknown URL option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in ${redactUrl(url)}; ` +
        `${url.protocol}// takes ${known.join(', ')}`,
    );
  }
}

/**
 * A duration option given in tooz's unit, seconds (decimals allowed), as ms.
 * `fromCode` (already ms) wins over the URL, as the contract says.
 */
export function durationOption(
  options: Map<string, string>,
  name: string,
  fromCode: number | undefined,
  defaultMs: number,
): number {
  if (fromCode !== undefined) {
    if (!Number.isFinite(fromCode) || fromCode <= 0) {
      throw new CoordinationError(`Option ${name} must be a positive number of milliseconds, got ${fromCode}`);
    }
    return fromCode;
  }
  const raw = options.get(name);
  if (raw === undefined) return defaultMs;
  const seconds = Number(raw);
  if (!/^\s*[0-9]*\.?[0-9]+\s*$/.test(raw) || !Number.isFinite(seconds) || seconds <= 0) {
    throw new CoordinationError(`URL option ${name}=${raw} must be a positive number of seconds`);
  }
  return Math.round(seconds * 1000);
}

/** Print a URL for an error message with its password (and any `password` option) masked. */
export function redactUrl(url: URL | string): string {
  const copy = new URL(url.toString());
  if (copy.password) copy.password = '***';
  if (copy.searchParams.has('password')) copy.searchParams.set('password', '***');
  return copy.toString();
}
