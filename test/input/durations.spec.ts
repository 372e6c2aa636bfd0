import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CoordinationError, getCoordinator } from '../../lib/core-entry.js';

const url = (query: string) => `memory://durations-${randomUUID()}${query}`;

describe('duration options below 1 ms (or past a timer) are refused', () => {
  it.each(['timeout=0.0001', 'lock_timeout=0.0004', 'timeout=0.00049'])('URL %s', (query) => {
    const create = () => getCoordinator(url(`?${query}`), 'm');
    expect(create).toThrow(CoordinationError);
    expect(create).toThrow(new RegExp(`URL option ${query.replace('.', '\\.')} must be from 0\\.001`));
  });

  it('1 ms (0.001 s, or 0.0005 s rounded) is the smallest URL timeout accepted', () => {
    expect(() => getCoordinator(url('?timeout=0.001&lock_timeout=0.0005'), 'm')).not.toThrow();
  });

  it('a URL timeout longer than a Node timer can wait is refused', () => {
    expect(() => getCoordinator(url('?timeout=9999999'), 'm')).toThrow(/timeout=9999999 must be from/);
  });

  it.each([
    [{ membershipTimeoutMs: 0.5 }, /Option membership_timeout must be a number of milliseconds from 1 .* got 0\.5/],
    [{ lockTimeoutMs: 0.0001 }, /Option lock_timeout .* got 0\.0001/],
    [{ lockTimeoutMs: 2 ** 31 }, /Option lock_timeout .* got 2147483648/],
  ])('options %j', (options, message) => {
    expect(() => getCoordinator(url(''), 'm', options)).toThrow(message);
  });
});
