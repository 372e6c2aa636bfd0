import { randomUUID } from 'node:crypto';
import { afterEach } from 'vitest';
import { type CoordinationEvent, type Coordinator, getCoordinator } from '../../lib/index.js';

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
