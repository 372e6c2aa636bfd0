/**
 * A driver is a `Backend` and nothing else: `coordinatorFor` turns one into
 * the `Coordinator` a registered factory returns, and the coordinator's
 * characteristics are the backend's own (docs/drivers.md#writing-a-driver).
 */
import { describe, expect, it } from 'vitest';
import { MemoryDriver } from '../../../lib/drivers/memory/memory-driver.js';
import { MemoryStore } from '../../../lib/drivers/memory/memory-store.js';
import {
  Characteristic,
  Coordinator,
  coordinatorFor,
  DriverChosenPoorlyError,
  getCoordinator,
  registerDriver,
} from '../../../lib/index.js';
import { uid } from '../../support/drivers.js';

/** The memory:// worked example declaring other characteristics: as a third-party driver would. */
class DeclaringBackend extends MemoryDriver {
  override readonly characteristics = [Characteristic.DistributedAcrossHosts];
}

describe('drivers as plain parts', () => {
  const store = new MemoryStore();
  const scheme = uid('parts')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
  registerDriver(scheme, (url, memberId, options) =>
    coordinatorFor(
      new DeclaringBackend(store, memberId, { membershipTimeoutMs: 5000, lockTimeoutMs: 5000 }),
      memberId,
      options,
    ),
  );

  it('every built-in scheme gives a plain Coordinator whose characteristics are its backend’s', () => {
    const c = getCoordinator('memory://', 'a');
    expect(Object.getPrototypeOf(c)).toBe(Coordinator.prototype);
    expect([...c.characteristics].sort()).toEqual(
      [
        Characteristic.DistributedAcrossThreads,
        Characteristic.Linearizable,
        Characteristic.SameViewAcrossClients,
      ].sort(),
    );
  });

  it('a driver registered with coordinatorFor works, and getCoordinator checks what its backend declares', async () => {
    const c = getCoordinator(`${scheme}://x`, 'a', { characteristics: [Characteristic.DistributedAcrossHosts] });
    expect([...c.characteristics]).toEqual([Characteristic.DistributedAcrossHosts]);
    expect(() => getCoordinator(`${scheme}://x`, 'b', { characteristics: [Characteristic.Linearizable] })).toThrow(
      DriverChosenPoorlyError,
    );
    await c.start();
    try {
      const lock = c.getLock('l');
      expect(await lock.acquire({ blocking: false })).toBe(true);
      expect(lock.fencingToken).toBe(1n);
    } finally {
      await c.stop();
    }
  });
});
