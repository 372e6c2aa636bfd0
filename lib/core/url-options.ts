import type { CoordinatorOptions } from './coordinator-options.js';
import { CoordinationError } from '../errors.js';

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

/** The code options every built-in driver takes (docs/drivers.md#options). */
export const CODE_OPTIONS = [
  'characteristics',
  'membershipTimeoutMs',
  'lockTimeoutMs',
  'connectTimeoutMs',
  'stopTimeoutMs',
  'logger',
] as const;

/**
 * Refuse code options the driver does not know, as `assertKnownOptions` does
 * for the URL: a misspelt `lockTimeoutMS` would otherwise leave the default
 * in force. `known` are the names the driver reads besides `CODE_OPTIONS`.
 */
export function assertKnownCodeOptions(options: object, url: URL, known: readonly string[] = []): void {
  const names: readonly string[] = [...CODE_OPTIONS, ...known];
  const unknown = Object.keys(options).filter((key) => !names.includes(key));
  if (unknown.length === 0) return;
  const hints = unknown
    .map((key) => names.find((name) => name.toLowerCase() === key.toLowerCase()))
    .filter((name) => name !== undefined);
  throw new CoordinationError(
    `Unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} given in code for ${url.protocol}//` +
      `${hints.length > 0 ? ` (did you mean ${hints.join(', ')}?)` : ''}; it takes ${names.join(', ')}`,
  );
}

/** The URL options that set the session's timeouts, with one meaning on every driver that has them. */
export const TIMEOUT_OPTIONS = ['timeout', 'membership_timeout', 'lock_timeout'] as const;

export interface SessionTimeouts {
  /** `timeout=` (tooz's default for the other two), 30 s by default. */
  timeoutMs: number;
  /** `membership_timeout=`, else `timeout=`; `membershipTimeoutMs` in code wins. */
  membershipTimeoutMs: number;
  /** `lock_timeout=`, else `timeout=`; `lockTimeoutMs` in code wins. */
  lockTimeoutMs: number;
}

/**
 * The membership and lock timeouts as tooz's Redis driver reads them, for
 * every driver: `timeout` is the default of both, so switching drivers keeps
 * the timing (docs/drivers.md#options).
 */
export function sessionTimeouts(options: Map<string, string>, fromCode: CoordinatorOptions): SessionTimeouts {
  const timeoutMs = durationOption(options, 'timeout', undefined, DEFAULT_TIMEOUT_MS);
  return {
    timeoutMs,
    membershipTimeoutMs: durationOption(options, 'membership_timeout', fromCode.membershipTimeoutMs, timeoutMs),
    lockTimeoutMs: durationOption(options, 'lock_timeout', fromCode.lockTimeoutMs, timeoutMs),
  };
}

/** tooz's default `timeout`, in ms. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The longest duration a Node timer can wait (2^31 − 1 ms, about 24.8 days);
 * a longer one fires after 1 ms, so the heart would spin.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A duration option given in tooz's unit, seconds (decimals allowed), as ms.
 * `fromCode` (already ms) wins over the URL, as the contract says. Both must
 * come to at least 1 ms: a timeout that rounds to 0 would make the heart
 * beat about a thousand times a second.
 */
export function durationOption(
  options: Map<string, string>,
  name: string,
  fromCode: number | undefined,
  defaultMs: number,
): number {
  if (fromCode !== undefined) {
    if (typeof fromCode !== 'number' || !Number.isFinite(fromCode) || fromCode < 1 || fromCode > MAX_TIMER_MS) {
      throw new CoordinationError(
        `Option ${name} must be a number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${String(fromCode)}`,
      );
    }
    return fromCode;
  }
  const raw = options.get(name);
  if (raw === undefined) return defaultMs;
  const seconds = Number(raw);
  if (!/^\s*[0-9]*\.?[0-9]+\s*$/.test(raw) || !Number.isFinite(seconds) || seconds <= 0) {
    throw new CoordinationError(`URL option ${name}=${raw} must be a positive number of seconds`);
  }
  const ms = Math.round(seconds * 1000);
  if (ms < 1 || ms > MAX_TIMER_MS) {
    throw new CoordinationError(
      `URL option ${name}=${raw} must be from 0.001 to ${MAX_TIMER_MS / 1000} seconds (1 ms to about 24.8 days)`,
    );
  }
  return ms;
}

const URL_PARTS = { username: 'the user name', password: 'the password', hostname: 'the host', pathname: 'the path' };

/**
 * One percent-encoded part of the URL, decoded. A malformed escape (a bare
 * `%`, as in a password typed as is) is a `CoordinationError` naming the part
 * and how to write it, never the part's value: it may be a password.
 */
export function decodedUrlPart(url: URL, part: keyof typeof URL_PARTS): string {
  try {
    return decodeURIComponent(url[part]);
  } catch {
    throw new CoordinationError(
      `${URL_PARTS[part].replace(/^t/, 'T')} in ${redactUrl(url)} is not valid percent-encoding: ` +
        'write a literal % as %25 (encodeURIComponent does it)',
    );
  }
}

/** What a secret is never printed as. */
const MASK = '***';

/** Query options whose value is a credential: `password`, `sentinel_password`, `sslpassword`, `auth_token`, `client_secret`… */
const SECRET_OPTION = /password|passwd|secret|token/i;

/**
 * A coordination URL fit for a message or a log: the password in the user
 * info and the value of every credential option (`password`,
 * `sentinel_password`, `sslpassword`, any name with `password`, `secret` or
 * `token`) become `***`. Works on text that does not parse as a URL too (a
 * password holding `/`, `?`, `#` or `@`): the user info then runs to the
 * last `@`, which may mask more than the password but never less. Never
 * throws.
 */
export function redactUrl(url: URL | string): string {
  return maskSecretOptions(maskUserInfo(String(url)));
}

/**
 * `text` (an error message, a log line) with every credential of `url`
 * masked: the URL itself wherever it appears, and its password and secret
 * option values on their own, raw, percent-decoded or percent-encoded, as a
 * driver or client library might have echoed them. Never throws.
 */
export function redactSecrets(text: string, url: URL | string): string {
  const raw = String(url);
  let result = raw.length > 0 ? text.split(raw).join(redactUrl(raw)) : text;
  // Longest first, so a secret containing another is masked whole.
  const secrets = [...secretsOf(raw)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  for (const secret of secrets) result = result.split(secret).join(MASK);
  return result;
}

/** Where the authority starts (after `scheme://`), or 0 for text without one. */
function authorityStart(text: string): number {
  const match = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  return match ? match[0].length : 0;
}

/** `user:password@` → `user:***@`, taking the last `@` as the end of the user info. */
function maskUserInfo(text: string): string {
  const start = authorityStart(text);
  const at = text.lastIndexOf('@');
  if (at < start) return text;
  const userInfo = text.slice(start, at);
  const colon = userInfo.indexOf(':');
  if (colon < 0) return text;
  return `${text.slice(0, start)}${userInfo.slice(0, colon)}:${MASK}${text.slice(at)}`;
}

/** `?sentinel_password=x&…` → `?sentinel_password=***&…`; a secret's value runs to the next `&`, past any `#`. */
function maskSecretOptions(text: string): string {
  const query = text.indexOf('?', authorityStart(text));
  if (query < 0) return text;
  const pairs = text.slice(query + 1).split('&');
  const masked = pairs.map((pair) => {
    const equals = pair.indexOf('=');
    if (equals < 0) return pair;
    const name = pair.slice(0, equals);
    return SECRET_OPTION.test(decodeComponent(name)) ? `${name}=${MASK}` : pair;
  });
  return `${text.slice(0, query + 1)}${masked.join('&')}`;
}

/** Every credential in a URL's text, in the forms a message may show it. */
function secretsOf(text: string): Set<string> {
  const found = new Set<string>();
  const add = (value: string) => {
    for (const form of [value, decodeComponent(value), encodeURIComponent(decodeComponent(value))]) found.add(form);
  };
  const start = authorityStart(text);
  const at = text.lastIndexOf('@');
  if (at >= start) {
    const userInfo = text.slice(start, at);
    const colon = userInfo.indexOf(':');
    if (colon >= 0) add(userInfo.slice(colon + 1));
  }
  try {
    const parsed = new URL(text);
    if (parsed.password) add(parsed.password);
  } catch {
    // Not a URL: the user info above is all there is.
  }
  const query = text.indexOf('?', start);
  if (query >= 0) {
    for (const pair of text.slice(query + 1).split('&')) {
      const equals = pair.indexOf('=');
      if (equals < 0 || !SECRET_OPTION.test(decodeComponent(pair.slice(0, equals)))) continue;
      const value = pair.slice(equals + 1);
      // What a URL parser keeps (up to a `#`) and what the user meant (all of it).
      add(value);
      add(value.split('#')[0]);
    }
  }
  return found;
}

/** Percent- and `+`-decoding as a query parser does; malformed escapes stay as written. */
function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}
