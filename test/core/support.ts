import { randomUUID } from 'node:crypto';
import { afterEach } from 'vitest';
import {
  Characteristic,
  type CoordinationEvent,
  type Coordinator,
  type CoordinatorOptions,
  getCoordinator,
} from '../../lib/index.js';
import { drivers } from '../support/drivers.js';

export const uid = (p = 'id') => `${p}-${randomUUID()}`;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Started coordinators on one fresh memory backend, stopped after each test. */
export function useMemory() {
  const made: Coordinator[] = [];
  let url = `memory://core-${randomUUID()}`;
  afterEach(async () => {
    for (const c of made.splice(0)) if (c.isStarted) await c.stop().catch(() => undefined);
    url = `memory://core-${randomUUID()}`;
  });
  return {
    url: (query = '') => url + query,
    create(query = '', memberId = uid('m')): Coordinator {
      const c = getCoordinator(url + query, memberId);
      made.push(c);
      return c;
    },
    async start(query = '', memberId = uid('m')): Promise<Coordinator> {
      const c = this.create(query, memberId);
      await c.start();
      return c;
    },
    track(c: Coordinator) {
      made.push(c);
      return c;
    },
    record(c: Coordinator): CoordinationEvent[] {
      const events: CoordinationEvent[] = [];
      c.events$.subscribe((e) => events.push(e));
      return events;
    },
  };
}

/** Drivers whose locks, leaderships and memberships end by time (not PostgreSQL's session-bound ones). */
export const timedDrivers = drivers.filter(
  (driver) => !driver.characteristics.includes(Characteristic.NonTimeoutBased),
);

/** Started coordinators on any driver, stopped after each test. */
export function useCoordinators() {
  const made: Coordinator[] = [];
  afterEach(async () => {
    for (const coordinator of made.splice(0)) {
      if (coordinator.isStarted) await coordinator.stop().catch(() => undefined);
    }
  });
  return async (url: string, options: CoordinatorOptions = {}): Promise<Coordinator> => {
    const coordinator = getCoordinator(url, uid('m'), { stopTimeoutMs: 1_000, ...options });
    made.push(coordinator);
    await coordinator.start();
    return coordinator;
  };
}
