/**
 * Coordinators on `failing://` backends for one test file: each is stopped
 * after its test (whatever faults were planned on it), and their events can
 * be recorded and waited for.
 */
import { afterEach } from 'vitest';
import { type CoordinationEvent, type Coordinator, type CoordinatorOptions, getCoordinator } from '../../lib/index.js';
import { uid } from './drivers.js';
import { type FailingCoordinator, failing, failingUrl } from './failing-driver.js';
import type { FaultyBackend } from './faulty-backend.js';

export { uid };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolve once `check()` holds, polling every 5 ms; reject naming `what` after `withinMs`. */
export async function waitUntil(check: () => boolean, what: string, withinMs = 5_000): Promise<void> {
  const end = performance.now() + withinMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`Timed out after ${withinMs} ms waiting until ${what}`);
    await sleep(5);
  }
}

/** `promise`, or a rejection naming `what` once `ms` passed without it settling. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A logger that keeps what it is told, for assertions (and keeps the test output quiet). */
export function quietLogger(): { warn(message: string): void; messages: string[] } {
  const messages: string[] = [];
  return { warn: (message) => void messages.push(message), messages };
}

/** A promise and the function that resolves it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Every event `coordinator` delivers from now on, in order. */
export function record(coordinator: Coordinator): CoordinationEvent[] {
  const events: CoordinationEvent[] = [];
  coordinator.events$.subscribe((event) => events.push(event));
  return events;
}

/** Call at the top of a `describe`: coordinators made through it are stopped after each test. */
export function useFailing() {
  const made: FailingCoordinator[] = [];
  afterEach(async () => {
    for (const coordinator of made.splice(0)) {
      coordinator.faults.heal();
      coordinator.faults.latencyMs = 0;
      if (coordinator.isStarted) await coordinator.stop().catch(() => undefined);
    }
  });
  return {
    /**
     * An unstarted coordinator on `url` (a `failingUrl()`). `stop()` drains for
     * at most 1 s unless `options` say otherwise, so a test that leaves a call
     * hung does not hold up the next one.
     */
    create(url: string, memberId = uid('m'), options: CoordinatorOptions = {}): FailingCoordinator {
      const coordinator = failing(getCoordinator(url, memberId, { stopTimeoutMs: 1_000, ...options }));
      made.push(coordinator);
      return coordinator;
    },
    /** A started coordinator on `url`. */
    async start(url: string, memberId = uid('m'), options: CoordinatorOptions = {}): Promise<FailingCoordinator> {
      const coordinator = this.create(url, memberId, options);
      await coordinator.start();
      return coordinator;
    },
    url: failingUrl,
  };
}

/** The fault handle of a coordinator made by `useFailing()`. */
export const faultsOf = (coordinator: Coordinator): FaultyBackend => failing(coordinator).faults;

/** Every operation of the driver port (`Backend`). */
export const PORT_CALLS = [
  'connect',
  'disconnect',
  'ping',
  'beat',
  'createGroup',
  'getGroups',
  'joinGroup',
  'leaveGroup',
  'deleteGroup',
  'getMembers',
  'getMembersWithCapabilities',
  'getMember',
  'updateCapabilities',
  'getLeader',
  'elect',
  'standDown',
  'watch',
  'acquire',
  'look',
  'withdraw',
  'release',
  'isHeld',
  'breakLock',
] as const;

/** How many port calls `faults` counted, all operations together (a planned call counts from its plan). */
export function portCalls(faults: FaultyBackend): number {
  return PORT_CALLS.reduce((sum, call) => sum + faults.calls(call), 0);
}
