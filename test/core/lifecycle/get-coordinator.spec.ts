/**
 * `getCoordinator` checks what it is given before it builds anything: the
 * characteristics asked for and the URL's options (docs/api.md#getting-a-coordinator,
 * docs/drivers.md#options).
 */
import { describe, expect, it } from 'vitest';
import { Characteristic, getCoordinator } from '../../../lib/index.js';

describe('getCoordinator options.characteristics', () => {
  it('a string is refused, not split into letters', () => {
    expect(() => getCoordinator('memory://', 'a', { characteristics: 'LINEARIZABLE' as never })).toThrow(
      /iterable of Characteristic values/,
    );
  });

  it('an unknown value is refused, naming it', () => {
    expect(() =>
      getCoordinator('memory://', 'a', { characteristics: [Characteristic.Linearizable, 'FAST' as never] }),
    ).toThrow(/Unknown characteristics FAST/);
  });

  it('known characteristics the driver has are accepted', () => {
    const c = getCoordinator('memory://', 'a', { characteristics: new Set([Characteristic.Linearizable]) });
    expect(c.characteristics.has(Characteristic.Linearizable)).toBe(true);
  });
});

describe('URL options', () => {
  it('an unknown option is refused, naming it and the ones the driver takes', () => {
    expect(() => getCoordinator('memory://x?timout=1', 'a')).toThrow(
      /Unknown URL option timout in memory:\/\/x\?timout=1; memory:\/\/ takes timeout, membership_timeout, lock_timeout/,
    );
  });

  it('a malformed value is refused, naming the option', () => {
    expect(() => getCoordinator('memory://x?lock_timeout=soon', 'a')).toThrow(/lock_timeout=soon/);
  });
});
