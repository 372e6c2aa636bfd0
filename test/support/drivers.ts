import { randomUUID } from 'node:crypto';
import { Characteristic } from '../../lib/index.js';
import { POSTGRES, REDIS, serverInUse } from './servers.js';

/** A backend the conformance suite runs against. */
export interface DriverUnderTest {
  /** Short name for test titles. */
  name: string;
  /** Base URL; tests add query options with `withQuery`. */
  url: string;
  /** Whether a separate OS process can share this backend (false for memory://). */
  crossProcess: boolean;
  /**
   * A URL for one test: a fresh, empty backend where making one costs nothing
   * (a new memory:// name). Absent for a network driver, whose tests share its
   * `url` and keep apart by unique group, lock and member names (`testBackend`).
   */
  isolatedUrl?: () => string;
  /**
   * What the driver must declare, from the driver table in docs/drivers.md: a test
   * checks the driver declares exactly these, and tests skip themselves from
   * this table, never from what the driver says (a driver that wrongly
   * declared NON_TIMEOUT_BASED would otherwise skip its own expiry tests).
   * Required for every driver in `drivers`; see `ConformanceDriver`.
   */
  characteristics?: readonly Characteristic[];
  /** docs/drivers.md's `requiresBeating` for the driver: whether `heartbeat()` must be called periodically. */
  requiresBeating?: boolean;
  /**
   * How soon, in ms, a blocked acquire must learn that the hold ended (the
   * conformance hand-off tests; `PROMPT_MS`, 10, when unset). Well under any
   * polling interval the driver has, so a poll still fails the test.
   */
  promptMs?: number;
}

/** A driver the conformance suite runs on: its characteristics and beating are pinned. */
export type ConformanceDriver = DriverUnderTest &
  Required<Pick<DriverUnderTest, 'characteristics' | 'requiresBeating'>>;

/** The embedded driver; each test may have a backend of its own. */
export const memoryDriver: ConformanceDriver = {
  name: 'memory',
  url: 'memory://conformance',
  crossProcess: false,
  isolatedUrl: () => `memory://${uid('test')}`,
  characteristics: [
    Characteristic.DistributedAcrossThreads,
    Characteristic.Linearizable,
    Characteristic.SameViewAcrossClients,
  ],
  requiresBeating: true,
};

/*
 * The network drivers pin docs/drivers.md's rows when they add themselves to `drivers`:
 *
 *   redis:      characteristics: [DistributedAcrossThreads, DistributedAcrossProcesses,
 *                                 DistributedAcrossHosts, Causal], requiresBeating: true
 *   postgresql: characteristics: [DistributedAcrossThreads, DistributedAcrossProcesses,
 *                                 DistributedAcrossHosts, NonTimeoutBased], requiresBeating: true
 *
 * so the expiry tests run on redis and skip on postgresql (whose locks and
 * membership end with the session, not by time).
 */

/**
 * Redis at 127.0.0.1:6379. Each test gets a namespace of its own (tooz's
 * `namespace` option prefixes every key), so tests never see each other's
 * keys; `test/support/cleanup.ts` deletes them after each file.
 */
export const redisDriver: ConformanceDriver = {
  name: 'redis',
  url: 'redis://127.0.0.1:6379/0',
  crossProcess: true,
  isolatedUrl: () => `redis://127.0.0.1:6379/0?namespace=${testNamespace()}`,
  characteristics: [
    Characteristic.DistributedAcrossThreads,
    Characteristic.DistributedAcrossProcesses,
    Characteristic.DistributedAcrossHosts,
    Characteristic.Causal,
  ],
  requiresBeating: true,
};

/** Namespaces handed out in this test file, for `test/support/cleanup.ts`. */
export const testNamespaces = new Set<string>();

/** A namespace no other test uses; every key a coordinator writes under it starts with it. */
export function testNamespace(): string {
  const namespace = uid('nctest');
  testNamespaces.add(namespace);
  return namespace;
}

/**
 * PostgreSQL at 127.0.0.1:5432 (database test, trust auth). Each test gets a
 * schema of its own, created by the driver at start(); `test/support/cleanup.ts`
 * drops them after each file.
 */
export const postgresDriver: ConformanceDriver = {
  name: 'postgresql',
  url: 'postgresql://root@127.0.0.1:5432/test',
  crossProcess: true,
  isolatedUrl: () => `postgresql://root@127.0.0.1:5432/test?schema=${testSchema()}`,
  characteristics: [
    Characteristic.DistributedAcrossThreads,
    Characteristic.DistributedAcrossProcesses,
    Characteristic.DistributedAcrossHosts,
    Characteristic.NonTimeoutBased,
  ],
  requiresBeating: true,
  // A hand-off here is a NOTIFY, then the waiter's own statement on its one connection (a break()
  // also waits for the broken session to let go): a few ms on a loaded CI box, against a 500 ms poll.
  promptMs: 25,
};

/** PostgreSQL schemas handed out in this test file, for `test/support/cleanup.ts`. */
export const testSchemas = new Set<string>();

/** A schema name no other test uses (lower case, as the driver requires). */
export function testSchema(): string {
  const schema = `nctest_${randomUUID().replace(/-/g, '')}`;
  testSchemas.add(schema);
  return schema;
}

/** Every driver the conformance suite runs on: memory:// always, the network drivers where their server is. */
export const drivers: ConformanceDriver[] = [
  memoryDriver,
  ...((await serverInUse(REDIS)) ? [redisDriver] : []),
  ...((await serverInUse(POSTGRES)) ? [postgresDriver] : []),
];

/** A unique id, so runs and tests never collide on a shared backend. */
export function uid(prefix = 'id'): string {
  return `${prefix}-${randomUUID()}`;
}

/** `url` with extra query options appended (`?` or `&` as needed). */
export function withQuery(url: string, options: Record<string, string | number>): string {
  const query = Object.entries(options)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  return query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url;
}

/** One test's place on a driver's backend: see `testBackend`. */
export interface TestBackend {
  /** This test's backend URL, with extra query options (tooz's names and units); the same backend on every call. */
  url(query?: Record<string, string | number>): string;
  /**
   * A group, lock or member name no other test uses, `<prefix>-<uuid>`; the
   * same name for the same prefix throughout the test.
   */
  name(prefix: string): string;
}

/**
 * Call once per test: the driver's `isolatedUrl()` (a fresh memory:// backend)
 * or else its shared `url`, and names unique to the test. Tests use unique
 * names on every driver, so the memory runs prove they would keep apart on a
 * shared network backend too (other test files run beside them, and a crashed
 * run may leave members and locks behind until they expire).
 */
export function testBackend(driver: DriverUnderTest): TestBackend {
  const base = driver.isolatedUrl?.() ?? driver.url;
  const names = new Map<string, string>();
  return {
    url: (query = {}) => withQuery(base, query),
    name(prefix) {
      let name = names.get(prefix);
      if (name === undefined) names.set(prefix, (name = uid(prefix)));
      return name;
    },
  };
}
