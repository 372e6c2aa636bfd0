import { describe, expect, it } from 'vitest';
import { Characteristic, getCoordinator } from '../../lib/index.js';

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
