/**
 * Common setup for the driver-agnostic conformance suite.
 *
 * Every spec file does `describe.each(drivers)('<area> on $name', (driver) => …)`
 * and calls `useCoordinators(driver)` once inside it. The harness makes
 * started coordinators with unique member ids and stops every one of them
 * after each test (tooz leaves extra coordinators running; we do not).
 *
 * Only the public API (`lib/index.ts`) is used here, so the same tests hold
 * for every driver listed in `test/support/drivers.ts`.
 */
import { performance } from 'node:perf_hooks';
import { filter, firstValueFrom, type Subscription, timeout } from 'rxjs';
import { afterEach, beforeEach, expect } from 'vitest';
import {
  Characteristic,
  type CoordinationEvent,
  type Coordinator,
  type CoordinatorOptions,
  getCoordinator,
  type StartOptions,
} from '../../lib/index.js';
import { type ConformanceDriver, type DriverUnderTest, uid, withQuery } from '../support/drivers.js';

export { uid, withQuery };

export interface MakeOptions {
  /** Defaults to a fresh `uid('member')`. */
  memberId?: string;
  /** URL query options in tooz's names and units (seconds), e.g. `{ timeout: 0.5 }`. */
  query?: Record<string, string | number>;
  options?: CoordinatorOptions;
  /** Passed to `start()`. */
  start?: StartOptions;
}

/**
 * What a driver must be, from the table pinned in `test/support/drivers.ts`
 * (docs/drivers.md's driver table), for `it.skipIf` at collection time. Skips never
 * follow what the driver itself declares: a driver that wrongly declared
 * NON_TIMEOUT_BASED would skip the very tests that show it expires things.
 * Lifecycle's "declares exactly" test holds the driver to the same table.
 */
export interface DriverTraits {
  characteristics: ReadonlySet<Characteristic>;
  requiresBeating: boolean;
  /** The driver lets members and locks expire by time (tooz skips such tests on NON_TIMEOUT_BASED). */
  timeoutBased: boolean;
  distributedAcrossHosts: boolean;
  /** The URL scheme, without `://`. */
  scheme: string;
}

/** The driver's pinned traits (no coordinator is made). */
export function driverTraits(driver: ConformanceDriver): DriverTraits {
  const characteristics = new Set(driver.characteristics);
  return {
    characteristics,
    requiresBeating: driver.requiresBeating,
    timeoutBased: !characteristics.has(Characteristic.NonTimeoutBased),
    distributedAcrossHosts: characteristics.has(Characteristic.DistributedAcrossHosts),
    scheme: new URL(driver.url).protocol.replace(/:$/, ''),
  };
}

export interface Coordinators {
  /** The driver's URL with extra query options. */
  url(query?: Record<string, string | number>): string;
  /** An unstarted coordinator; stopped after the test if the test started it. */
  create(options?: MakeOptions): Coordinator;
  /** A started coordinator (no heart unless `start.startHeart`). */
  start(options?: MakeOptions): Promise<Coordinator>;
  /** `count` started coordinators sharing `options` (each with its own member id). */
  startMany(count: number, options?: Omit<MakeOptions, 'memberId'>): Promise<Coordinator[]>;
  /** Every event `coordinator.events$` emits from now until the end of the test. */
  record(coordinator: Coordinator): CoordinationEvent[];
}

export function useCoordinators(driver: DriverUnderTest): Coordinators {
  const made: Coordinator[] = [];
  const subscriptions: Subscription[] = [];

  afterEach(async () => {
    for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
    const failures: unknown[] = [];
    for (const coordinator of made.splice(0)) {
      if (!coordinator.isStarted) continue;
      try {
        await coordinator.stop();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  });

  // A backend of the test's own where the driver offers one (a fresh memory:// name, a Redis namespace).
  let base = driver.url;
  beforeEach(() => {
    base = driver.isolatedUrl?.() ?? driver.url;
  });
  const url = (query: Record<string, string | number> = {}) => withQuery(base, query);

  const create = (options: MakeOptions = {}) => {
    const coordinator = getCoordinator(url(options.query), options.memberId ?? uid('member'), options.options);
    made.push(coordinator);
    return coordinator;
  };

  const start = async (options: MakeOptions = {}) => {
    const coordinator = create(options);
    await coordinator.start(options.start);
    return coordinator;
  };

  return {
    url,
    create,
    start,
    startMany: (count, options = {}) => Promise.all(Array.from({ length: count }, () => start(options))),
    record: (coordinator) => {
      const events: CoordinationEvent[] = [];
      subscriptions.push(coordinator.events$.subscribe((event) => events.push(event)));
      return events;
    },
  };
}

/**
 * tooz's `_set_event`: a watch callback that records the event and returns 42,
 * so `runWatchers()` results show that it ran.
 */
export function eventSink<E = CoordinationEvent>(): { events: E[]; callback: (event: E) => number } {
  const events: E[] = [];
  return { events, callback: (event: E) => (events.push(event), 42) };
}

/**
 * tooz's "loop `run_watchers()` until truthy": some backends deliver a change
 * a moment after it happened. Returns the first non-empty result.
 */
export async function runWatchersUntilResult(coordinator: Coordinator, withinMs = 5000): Promise<unknown[]> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const results = await coordinator.runWatchers();
    if (results.length > 0) return results;
    if (performance.now() > deadline)
      throw new Error(`runWatchers() of ${coordinator.memberId} stayed empty for ${withinMs} ms`);
    await sleep(10);
  }
}

/**
 * The next event of class `type` (and matching `where`) on `events$`. Call it
 * before the action that causes the event, then await the promise.
 */
export function nextEvent<T extends CoordinationEvent>(
  coordinator: Coordinator,
  type: abstract new (...args: never[]) => T,
  where: (event: T) => boolean = () => true,
  withinMs = 5000,
): Promise<T> {
  return firstValueFrom(
    coordinator.events$.pipe(
      filter((event): event is T => event instanceof type && where(event)),
      timeout({ first: withinMs }),
    ),
  );
}

/** For waiting on time itself (expiry, the absence of a wake-up); prefer awaiting an event. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds since `start` (a `performance.now()` value). */
export const since = (start: number): number => performance.now() - start;

export const now = (): number => performance.now();

/** Whether a promise has settled by the time pending callbacks and a short pause have run. */
export async function isSettled(promise: Promise<unknown>, afterMs = 20): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(afterMs);
  return settled;
}

/**
 * How soon a blocked acquire must learn that the hold it waits on ended: a
 * notification from the backend, not a polling interval. Measured from just
 * before the call that ends the hold, so it covers that call's round trip,
 * the notification and the grant.
 */
export const PROMPT_MS = 10;

/**
 * An answer that does not wait: well under the 5 s the waiting acquires in
 * these tests are given, and generous for a round trip on a throttled CPU.
 */
export const AT_ONCE_MS = 1000;

/**
 * How long the waiter has waited when the hold ends, in `expectPromptHandover`.
 * A poll every P ms (counted from the first try) answers P − phase late, and
 * a backoff misses the long phases, so every poll or backoff slower than about
 * `PROMPT_MS` misses at least one of these by more than `PROMPT_MS`.
 */
const HANDOVER_PHASES_MS = [3, 23, 61, 137];

/** One hold ended under a blocked waiter, for `expectPromptHandover`. */
export interface Handover {
  /** Starts the blocked acquire (the hold is already taken); resolves true once granted. */
  wait(): Promise<boolean>;
  /** Ends the hold the waiter waits on (release, break, stop…). */
  end(): Promise<unknown>;
  /** Called after the grant, e.g. to let go of the waiter's new hold. */
  after?(): Promise<unknown>;
}

/**
 * A blocked acquire learns promptly that the hold it waits on ended: for each
 * phase in `HANDOVER_PHASES_MS`, the ms from just before `end()` to the
 * waiter's grant, made by `round()` (which takes a fresh hold each time), is
 * under `promptMs` (the driver's `promptMs`, else `PROMPT_MS`) in the best of
 * up to `tries` rounds. Taking the best round
 * lets a CPU starved in one round (a container quota, a loaded CI) pass on the
 * next, and the phases keep a poll from passing by luck: it answers the same
 * phase equally late every time.
 */
export async function expectPromptHandover(
  round: () => Promise<Handover>,
  promptMs = PROMPT_MS,
  tries = 3,
): Promise<void> {
  for (const phase of HANDOVER_PHASES_MS) {
    const latencies: number[] = [];
    while (latencies.length < tries && !latencies.some((ms) => ms < promptMs)) {
      const handover = await round();
      let grantedAt: number | undefined;
      const waiting = handover.wait().then((granted) => ((grantedAt = now()), granted));
      await sleep(phase);
      expect(grantedAt, `granted before the hold ended (phase ${phase} ms)`).toBeUndefined();
      const endedAt = now();
      await handover.end();
      expect(await waiting, `granted once the hold ended (phase ${phase} ms)`).toBe(true);
      latencies.push(grantedAt! - endedAt);
      await handover.after?.();
    }
    expect(
      Math.min(...latencies),
      `a waiter that had waited ${phase} ms learned the hold ended after ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`,
    ).toBeLessThan(promptMs);
  }
}
