import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CoordinationError, getCoordinator, registerDriver } from '../../lib/core-entry.js';
import { redactSecrets, redactUrl } from '../../lib/core/url-options.js';

/** The message of what `fn` throws. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return `${(error as Error).message}\n${(error as Error).stack ?? ''}`;
  }
  throw new Error('expected a throw');
}

describe('credentials never reach a message', () => {
  it('a password holding "/" stops the URL parsing, and the message still masks it', () => {
    const message = thrown(() => getCoordinator('redis://u:pa/ss@h:1/0?x', 'm'));
    expect(message).toMatch(/Invalid coordination URL/);
    expect(message).not.toContain('pa/ss');
    expect(message).not.toContain('pa%2Fss');
    expect(message).toContain('redis://u:***@h:1/0?x');
  });

  it.each([
    ['?', 'redis://u:p?ss@h:1/0'],
    ['#', 'redis://u:p#ss@h:1/0'],
    ['@', 'unknown-scheme://u:p@ss@h:1/0'],
    ['/ with a numeric start, which parses as host:port', 'unknown-scheme://user:12/34@h/0'],
    ['spaces and %', 'redis://u:p ss%zz@h:1/0'],
  ])('user info with %s', (_what, url) => {
    const secret = url.slice(url.indexOf(':', url.indexOf('//')) + 1, url.lastIndexOf('@'));
    const message = thrown(() => getCoordinator(url, 'm'));
    expect(message).toBeTruthy();
    expect(message).not.toContain(secret);
  });

  it('an unknown-option error masks sentinel_password and every other credential option', () => {
    const url =
      `memory://${randomUUID()}?sentinel_password=hunter2&password=pw-one&sslpassword=pw-two` +
      `&auth_token=tok-three&client_secret=sec-four&pass%77ord=pw-five&bogus=1`;
    let error: unknown;
    try {
      getCoordinator(url, 'm');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CoordinationError);
    const message = (error as Error).message;
    expect(message).toMatch(/Unknown URL options .*bogus/);
    for (const secret of ['hunter2', 'pw-one', 'pw-two', 'tok-three', 'sec-four', 'pw-five']) {
      expect(message).not.toContain(secret);
    }
    expect(message).toContain('sentinel_password=***');
    expect(message).toContain('bogus=1');
  });

  it("a driver's own error that echoes the URL is masked before it leaves getCoordinator", () => {
    const scheme = `leaky${randomUUID().slice(0, 8)}`;
    registerDriver(scheme, (url) => {
      throw new Error(`cannot use ${url.href} (password ${decodeURIComponent(url.password)})`);
    });
    const message = thrown(() => getCoordinator(`${scheme}://admin:s3cr%40t@h:1/?token=abc123`, 'm'));
    expect(message).toMatch(/cannot use/);
    for (const secret of ['s3cr%40t', 's3cr@t', 'abc123']) expect(message).not.toContain(secret);
  });
});

describe('a malformed percent-escape in the URL', () => {
  // docs/drivers.md, URL options: a bare % is a CoordinationError naming the part, never the password.
  it.each([
    ['the password', 'redis://app:S3cr%t@127.0.0.1:6379/0', 'S3cr%t'],
    ['the password', 'postgresql://app:S3cr%t@127.0.0.1:5432/test', 'S3cr%t'],
    ['the user name', 'redis://ap%p:hunter2@127.0.0.1:6379/0', 'hunter2'],
    ['the user name', 'postgres://ap%p:hunter2@127.0.0.1:5432/test', 'hunter2'],
  ])('%s in %s', (part, url, secret) => {
    let error: unknown;
    try {
      getCoordinator(url, 'm');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CoordinationError);
    const message = (error as Error).message;
    expect(message.toLowerCase()).toContain(part);
    expect(message).toMatch(/%25/);
    expect(message).not.toContain(secret);
    expect(`${(error as Error).stack ?? ''}`).not.toContain(secret);
  });
});

describe('redactUrl / redactSecrets', () => {
  it.each([
    ['redis://u:pw@h:6379/0', 'redis://u:***@h:6379/0'],
    ['redis://:pw@h:6379/0', 'redis://:***@h:6379/0'],
    ['redis://u:pa/ss@h:1/0?x', 'redis://u:***@h:1/0?x'],
    ['redis://h:6379/0?sentinel_password=x&db=1', 'redis://h:6379/0?sentinel_password=***&db=1'],
    ['redis://h/0?password=a#b&timeout=1', 'redis://h/0?password=***&timeout=1'],
    ['postgresql://u@h/db?sslpassword=x', 'postgresql://u@h/db?sslpassword=***'],
    ['memory://name', 'memory://name'],
    ['not a url at all', 'not a url at all'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('takes URL objects and never throws', () => {
    expect(redactUrl(new URL('redis://u:p%2Fw@h:1/0?token=t'))).toBe('redis://u:***@h:1/0?token=***');
    expect(() => redactUrl('::::@@@??&&==%%')).not.toThrow();
    // What a Nest user might pass by mistake still yields a message.
    expect(redactUrl(42 as unknown as string)).toBe('42');
    expect(redactUrl(undefined as unknown as string)).toBe('undefined');
  });

  it('redactSecrets masks the URL and its credentials in any text, decoded or encoded', () => {
    const url = 'redis://u:p%2Fw0rd@h:1/0?sentinel_password=s%20p';
    const text = `failed ${url}: auth p/w0rd refused (p%2Fw0rd), sentinel said "s p"`;
    const masked = redactSecrets(text, url);
    for (const secret of ['p/w0rd', 'p%2Fw0rd', 's p', 's%20p']) expect(masked).not.toContain(secret);
    expect(masked).toContain('redis://u:***@h:1/0?sentinel_password=***');
    expect(redactSecrets('nothing secret here', 'memory://x')).toBe('nothing secret here');
  });
});
