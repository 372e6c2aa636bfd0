/**
 * A backend that fails on demand, for tests of what happens when the backend
 * errors, stops answering, is slow, misses a push or drops the connection,
 * without mocking the coordinator: the `failing://` scheme builds a
 * coordinator on the real memory:// driver wrapped in a `FaultyBackend`
 * (`failing+redis://` and `failing+postgres://` wrap the real Redis and
 * PostgreSQL drivers). Only the backend misbehaves; everything above it is
 * the real code.
 *
 *   const url = failingUrl({ lock_timeout: 0.1 }); // a fresh backend
 *   …start an app or a coordinator on `url`…
 *   failing(app.get(Coordinator)).fail('beat', new Error('backend down'));
 */
import { memoryDriver } from '../../lib/drivers/memory/index.js';
import { PostgresDriver, postgresSettings } from '../../lib/drivers/postgres/index.js';
import { RedisDriver, redisSettings } from '../../lib/drivers/redis/index.js';
import { Coordinator, type CoordinatorOptions, registerDriver } from '../../lib/index.js';
import {
  type DriverUnderTest,
  drivers,
  postgresDriver,
  redisDriver,
  testNamespace,
  testSchema,
  uid,
  withQuery,
} from './drivers.js';
import { FaultyBackend } from './faulty-backend.js';

export const FAILING_SCHEME = 'failing';

/** A real driver behind a `FaultyBackend` (its characteristics are the real driver's); `faults` is the test's handle on it. */
export class FailingCoordinator extends Coordinator {
  constructor(
    readonly faults: FaultyBackend,
    memberId: string,
    options: CoordinatorOptions,
  ) {
    super(memberId, options, faults.backend);
  }

  hang(call: string): void {
    this.faults.hang(call);
  }

  fail(call: string, error: unknown, times = 1): void {
    this.faults.fail(call, error, times);
  }

  calls(call: string): number {
    return this.faults.calls(call);
  }

  heal(): void {
    this.faults.heal();
  }
}

/**
 * `failing://name?…` is `memory://name?…` behind a `FaultyBackend`. The option
 * `pushes=<fallback seconds>` makes the backend claim membership pushes, so
 * watchers read only what a push named (and everything after the fallback).
 */
registerDriver(FAILING_SCHEME, (url, memberId, options) => {
  const memoryUrl = new URL(url.href.replace(/^[^:]+:/, 'memory:'));
  const fallback = memoryUrl.searchParams.get('pushes');
  memoryUrl.searchParams.delete('pushes');
  const faults = new FaultyBackend(memoryDriver(memoryUrl, memberId, options), {
    membershipPushes: fallback === null ? undefined : { fallbackMs: Number(fallback) * 1000 },
  });
  return new FailingCoordinator(faults, memberId, options);
});

/** `failing+redis://…` is `redis://…` behind a `FaultyBackend`: the same faults on the real Redis. */
registerDriver(`${FAILING_SCHEME}+redis`, (url, memberId, options) => {
  const redisUrl = new URL(url.href.replace(/^[^:]+:/, 'redis:'));
  const faults = new FaultyBackend(new RedisDriver(redisSettings(redisUrl, options), memberId));
  return new FailingCoordinator(faults, memberId, options);
});

/** `failing+postgres://…` is `postgresql://…` behind a `FaultyBackend`: the same faults on the real PostgreSQL. */
registerDriver(`${FAILING_SCHEME}+postgres`, (url, memberId, options) => {
  const postgresUrl = new URL(url.href.replace(/^[^:]+:/, 'postgresql:'));
  const faults = new FaultyBackend(new PostgresDriver(postgresSettings(postgresUrl, options), memberId));
  return new FailingCoordinator(faults, memberId, options);
});

/** A fresh `failing://` backend (a memory:// one underneath), with query options. */
export function failingUrl(query: Record<string, string | number> = {}): string {
  return withQuery(`${FAILING_SCHEME}://${uid('failing')}`, query);
}

/** The failing backend as a driver, for helpers that take one (`testBackend`). */
export const failingDriver: DriverUnderTest = {
  name: 'failing memory',
  url: `${FAILING_SCHEME}://shared`,
  crossProcess: false,
  isolatedUrl: () => failingUrl(),
};

/** `coordinator` as the `FailingCoordinator` it is; throws if it came from another driver. */
export function failing(coordinator: Coordinator): FailingCoordinator {
  if (!(coordinator instanceof FailingCoordinator)) {
    throw new TypeError(`Coordinator ${coordinator.memberId} is not on a ${FAILING_SCHEME}:// backend`);
  }
  return coordinator;
}

/** `failing://` over Redis, each test in a namespace of its own. */
export const failingRedisDriver: DriverUnderTest = {
  name: 'failing redis',
  url: `${FAILING_SCHEME}+redis://127.0.0.1:6379/0`,
  crossProcess: true,
  isolatedUrl: () => `${FAILING_SCHEME}+redis://127.0.0.1:6379/0?namespace=${testNamespace()}`,
};

/** `failing://` over PostgreSQL, each test in a schema of its own (dropped after the file). */
export const failingPostgresDriver: DriverUnderTest = {
  name: 'failing postgresql',
  url: `${FAILING_SCHEME}+postgres://root@127.0.0.1:5432/test`,
  crossProcess: true,
  isolatedUrl: () => `${FAILING_SCHEME}+postgres://root@127.0.0.1:5432/test?schema=${testSchema()}`,
};

/** A failing variant of every driver under test: failure paths run per driver, not on memory:// alone. */
export const failingDrivers: DriverUnderTest[] = [
  failingDriver,
  ...(drivers.includes(redisDriver) ? [failingRedisDriver] : []),
  ...(drivers.includes(postgresDriver) ? [failingPostgresDriver] : []),
];
