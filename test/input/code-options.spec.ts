/**
 * Options given in code are checked as URL options are, and the session's
 * timeouts mean the same on every driver (docs/drivers.md#options).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { memoryTimeouts } from '../../lib/drivers/memory/memory-options.js';
import { postgresSettings } from '../../lib/drivers/postgres/postgres-options.js';
import { redisSettings } from '../../lib/drivers/redis/redis-options.js';
import { CoordinationError, type CoordinatorOptions, getCoordinator } from '../../lib/index.js';

/** getCoordinator() builds without connecting, so no server is needed here. */
const URLS = {
  memory: () => `memory://code-options-${randomUUID()}`,
  redis: () => 'redis://127.0.0.1:6379',
  postgresql: () => 'postgresql://root@127.0.0.1:5432/test',
};

/** Each driver's timeouts as it will use them, in ms. */
const TIMEOUTS: Record<keyof typeof URLS, (url: string, options?: CoordinatorOptions) => object> = {
  memory: (url, options = {}) => memoryTimeouts(new URL(url), options),
  redis: (url, options = {}) => redisSettings(new URL(url), options),
  postgresql: (url, options = {}) => postgresSettings(new URL(url), options),
};

const DRIVERS = Object.keys(URLS) as (keyof typeof URLS)[];

describe.each(DRIVERS)('code options on %s://', (driver) => {
  it('a misspelt code option is refused, naming it and the right spelling', () => {
    const create = () => getCoordinator(URLS[driver](), 'm', { lockTimeoutMS: 5_000 });
    expect(create).toThrow(CoordinationError);
    expect(create).toThrow(/Unknown option lockTimeoutMS given in code .*did you mean lockTimeoutMs\?/);
  });

  it('an unknown code option is refused even when its value is undefined', () => {
    expect(() => getCoordinator(URLS[driver](), 'm', { membershipTimout: undefined })).toThrow(
      /Unknown option membershipTimout/,
    );
  });

  it('every documented code option is taken', () => {
    const options: CoordinatorOptions = {
      characteristics: [],
      membershipTimeoutMs: 4_000,
      lockTimeoutMs: 3_000,
      connectTimeoutMs: 1_000,
      stopTimeoutMs: 100,
      logger: { warn: () => undefined },
    };
    expect(() => getCoordinator(URLS[driver](), 'm', options)).not.toThrow();
    expect(TIMEOUTS[driver](URLS[driver](), options)).toMatchObject({
      membershipTimeoutMs: 4_000,
      lockTimeoutMs: 3_000,
    });
  });

  it('timeout= sets both the membership and the lock timeout, as tooz reads it', () => {
    expect(TIMEOUTS[driver](`${URLS[driver]()}?timeout=5`)).toMatchObject({
      membershipTimeoutMs: 5_000,
      lockTimeoutMs: 5_000,
    });
  });

  it('membership_timeout= and lock_timeout= override timeout= each for their own', () => {
    expect(TIMEOUTS[driver](`${URLS[driver]()}?timeout=5&membership_timeout=2&lock_timeout=3`)).toMatchObject({
      membershipTimeoutMs: 2_000,
      lockTimeoutMs: 3_000,
    });
  });

  it('without options both timeouts are 30 s', () => {
    expect(TIMEOUTS[driver](URLS[driver]())).toMatchObject({ membershipTimeoutMs: 30_000, lockTimeoutMs: 30_000 });
  });
});

describe('timeouts across drivers', () => {
  it.each(['?timeout=5', '?lock_timeout=2', '?timeout=4&lock_timeout=1', ''])(
    '%s gives the same lock and membership timeouts on every driver',
    (query) => {
      const seen = DRIVERS.map((driver) => {
        const { membershipTimeoutMs, lockTimeoutMs } = TIMEOUTS[driver](`${URLS[driver]()}${query}`) as {
          membershipTimeoutMs: number;
          lockTimeoutMs: number;
        };
        return { membershipTimeoutMs, lockTimeoutMs };
      });
      expect(seen[1]).toEqual(seen[0]);
      expect(seen[2]).toEqual(seen[0]);
    },
  );
});
