import { inspect } from 'node:util';
import { Inject, Injectable, Module, Scope } from '@nestjs/common';
import { Interval, ScheduleModule } from '@nestjs/schedule';
import type { TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Characteristic,
  CoordinationModule,
  type CoordinationModuleOptions,
  type CoordinationOptionsFactory,
  Coordinator,
  DriverChosenPoorlyError,
  getCoordinator,
  InjectCoordinator,
  Leader,
  OnMemberJoined,
  WithLock,
} from '../../lib/index.js';
import { drivers, memoryDriver, type TestBackend, testBackend } from '../support/drivers.js';
import { compileApp, createApp, waitFor } from './support.js';

const apps: TestingModule[] = [];
async function start(...args: Parameters<typeof createApp>) {
  const app = await createApp(...args);
  apps.push(app);
  return app;
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

@Injectable()
class NeedsCoordinator {
  constructor(
    readonly byClass: Coordinator,
    @InjectCoordinator() readonly byDecorator: Coordinator,
  ) {}
}

describe.each(drivers)('CoordinationModule.forRoot on $name', (driver) => {
  it('provides one started Coordinator, injectable by its class and by @InjectCoordinator()', async () => {
    const { url, name } = testBackend(driver);
    const app = await start([CoordinationModule.forRoot({ url: url(), memberId: name('m1') })], [NeedsCoordinator]);
    const consumer = app.get(NeedsCoordinator);
    expect(consumer.byClass).toBeInstanceOf(Coordinator);
    expect(consumer.byDecorator).toBe(consumer.byClass);
    expect(app.get(Coordinator)).toBe(consumer.byClass);
    expect(consumer.byClass.memberId).toBe(name('m1'));
    expect(consumer.byClass.isStarted).toBe(true);
  });

  it('is global by default, so a feature module can inject the coordinator', async () => {
    @Module({ providers: [NeedsCoordinator] })
    class FeatureModule {}
    const app = await start([CoordinationModule.forRoot({ url: testBackend(driver).url() }), FeatureModule]);
    expect(app.get(NeedsCoordinator).byClass).toBe(app.get(Coordinator));
  });

  it('with isGlobal: false, only importing modules see it', async () => {
    @Module({ providers: [NeedsCoordinator] })
    class FeatureModule {}
    await expect(
      compileApp([CoordinationModule.forRoot({ url: testBackend(driver).url(), isGlobal: false }), FeatureModule]),
    ).rejects.toThrow(/Coordinator/);
  });

  it('joins the configured groups with their capabilities at bootstrap and leaves them at close', async () => {
    const { url, name } = testBackend(driver);
    const [API, ALL, API_1] = [name('api'), name('all'), name('api-1')];
    const app = await createApp([
      CoordinationModule.forRoot({
        url: url(),
        memberId: API_1,
        groups: [{ groupId: API, capabilities: { role: 'api', v: 2 } }, { groupId: ALL }],
      }),
    ]);
    const observer = getCoordinator(url(), name('observer'));
    await observer.start();
    try {
      expect(await observer.getMembers(API)).toEqual(new Set([API_1]));
      expect(await observer.getMemberCapabilities(API, API_1)).toEqual({ role: 'api', v: 2 });
      expect(await observer.getMembers(ALL)).toEqual(new Set([API_1]));
      expect(app.get(Coordinator).groups).toEqual(new Set([API, ALL]));
      await app.close();
      expect(await observer.getMembers(API)).toEqual(new Set());
      expect(await observer.getMembers(ALL)).toEqual(new Set());
      expect(app.get(Coordinator).isStarted).toBe(false);
    } finally {
      await observer.stop();
    }
  });
});

describe.each(drivers)('CoordinationModule.forRootAsync on $name', (driver) => {
  /** A config provider with this test's backend URL and member id, and the module exporting it. */
  function config(backend: TestBackend) {
    @Injectable()
    class AppConfig {
      readonly url = backend.url();
      readonly memberId = backend.name('from-config');
    }
    @Module({ providers: [AppConfig], exports: [AppConfig] })
    class ConfigModule {}
    return { AppConfig, ConfigModule };
  }

  it('takes options from a factory with injected config', async () => {
    const backend = testBackend(driver);
    const { AppConfig, ConfigModule } = config(backend);
    const app = await start([
      CoordinationModule.forRootAsync({
        imports: [ConfigModule],
        inject: [AppConfig],
        useFactory: async (config: InstanceType<typeof AppConfig>): Promise<CoordinationModuleOptions> => ({
          url: config.url,
          memberId: config.memberId,
          groups: [{ groupId: backend.name('async-group') }],
        }),
      }),
    ]);
    const coordinator = app.get(Coordinator);
    expect(coordinator.memberId).toBe(backend.name('from-config'));
    expect(coordinator.isStarted).toBe(true);
    expect(await coordinator.getMembers(backend.name('async-group'))).toEqual(new Set([backend.name('from-config')]));
  });

  it('takes options from a useClass factory', async () => {
    const { url, name } = testBackend(driver);
    @Injectable()
    class OptionsFactory implements CoordinationOptionsFactory {
      createCoordinationOptions(): CoordinationModuleOptions {
        return { url: url(), memberId: name('from-class') };
      }
    }
    const app = await start([CoordinationModule.forRootAsync({ useClass: OptionsFactory })]);
    expect(app.get(Coordinator).memberId).toBe(name('from-class'));
  });

  it('takes options from an existing provider (useExisting), and accepts isGlobal', async () => {
    const backend = testBackend(driver);
    const { AppConfig, ConfigModule } = config(backend);
    @Injectable()
    class SharedOptions implements CoordinationOptionsFactory {
      constructor(@Inject(AppConfig) private readonly config: InstanceType<typeof AppConfig>) {}
      createCoordinationOptions(): CoordinationModuleOptions {
        return { url: this.config.url, memberId: backend.name('from-existing') };
      }
    }
    @Module({ imports: [ConfigModule], providers: [SharedOptions], exports: [SharedOptions] })
    class OptionsModule {}
    const app = await start(
      [
        CoordinationModule.forRootAsync({ imports: [OptionsModule], useExisting: SharedOptions, isGlobal: true }),
        OptionsModule,
      ],
      [NeedsCoordinator],
    );
    expect(app.get(NeedsCoordinator).byClass.memberId).toBe(backend.name('from-existing'));
  });
});

describe.each(drivers)(
  'CoordinationModule beside the application’s own ScheduleModule.forRoot(), on $name',
  (driver) => {
    // Every arrangement (before, after, none, forRootAsync) is in schedule-module.spec.ts.
    it('starts, and the application’s @Interval() fires once per tick', async () => {
      const { url } = testBackend(driver);
      @Injectable()
      class Ticker {
        readonly ticks: number[] = [];
        @Interval(50)
        tick() {
          this.ticks.push(performance.now());
        }
      }
      const app = await start([ScheduleModule.forRoot(), CoordinationModule.forRoot({ url: url() })], [Ticker]);
      expect(app.get(Coordinator).isStarted).toBe(true);
      const ticker = app.get(Ticker);
      await waitFor(() => ticker.ticks.length >= 4);
      // A second scheduler would fire every tick twice, within a few ms.
      const gaps = ticker.ticks.slice(1).map((at, i) => at - ticker.ticks[i]!);
      expect(Math.min(...gaps)).toBeGreaterThan(25);
    });
  },
);

describe.each(drivers)('misconfiguration fails at bootstrap, naming what is wrong, on $name', (driver) => {
  it('a bad URL option', async () => {
    const url = testBackend(driver).url({ timeout: 'abc' });
    await expect(compileApp([CoordinationModule.forRoot({ url })])).rejects.toThrow(
      /option url .*timeout=abc must be a positive number of seconds/,
    );
  });

  it('a bad module option', async () => {
    const { url } = testBackend(driver);
    await expect(
      compileApp([CoordinationModule.forRoot({ url: url(), watchers: { intervalMs: -5 } })]),
    ).rejects.toThrow(
      /CoordinationModule option watchers\.intervalMs must be a positive number of milliseconds, got -5/,
    );
    await expect(
      compileApp([CoordinationModule.forRoot({ url: url(), heartbeat: { intervalMs: 'fast' as never } })]),
    ).rejects.toThrow(/heartbeat\.intervalMs/);
    await expect(compileApp([CoordinationModule.forRoot({ url: url(), groups: [{ groupId: '' }] })])).rejects.toThrow(
      /groups\[0\]\.groupId/,
    );
  });

  it.each([
    ['watchers.intervalMs', { watchers: { intervalMs: 30 * 24 * 3600 * 1000 } }],
    ['heartbeat.intervalMs', { heartbeat: { intervalMs: 2 ** 31 } }],
    ['shutdown.timeoutMs', { shutdown: { timeoutMs: Number.POSITIVE_INFINITY } }],
  ])('%s beyond the longest Node timer (which would fire every 1 ms instead)', async (option, options) => {
    const url = testBackend(driver).url();
    await expect(compileApp([CoordinationModule.forRoot({ url, ...options })])).rejects.toThrow(
      new RegExp(`CoordinationModule option ${option.replace('.', '\\.')} must be at most 2147483647 ms`),
    );
  });

  it.each([
    ['heartbeat', { heartbeat: true }, /option heartbeat must be an object \{ enabled\?, intervalMs\? \}, got true/],
    ['watchers', { watchers: 500 }, /option watchers must be an object \{ intervalMs\? \}, got 500/],
    ['shutdown', { shutdown: [5000] }, /option shutdown must be an object \{ timeoutMs\? \}, got \[5000\]/],
    [
      'characteristics (a lone string)',
      { characteristics: 'LINEARIZABLE' },
      /option characteristics must be an array of Characteristic values, got "LINEARIZABLE"/,
    ],
    [
      'characteristics (an unknown value)',
      { characteristics: [Characteristic.Linearizable, 'FAST'] },
      /option characteristics\[1\] must be one of DISTRIBUTED_ACROSS_THREADS, .*, got "FAST"/,
    ],
  ])('an option of the wrong shape: %s', async (_, options, message) => {
    const url = testBackend(driver).url();
    await expect(
      compileApp([CoordinationModule.forRoot({ url, ...(options as CoordinationModuleOptions) })]),
    ).rejects.toThrow(message);
  });

  it('capabilities the backend cannot carry: bootstrap fails naming the group, and the coordinator is stopped again', async () => {
    const { url, name } = testBackend(driver);
    const app = await compileApp([
      CoordinationModule.forRoot({
        url: url(),
        groups: [{ groupId: name('bad-caps'), capabilities: { when: new Date() } as never }],
      }),
    ]);
    await expect(app.init()).rejects.toThrow(/bad-caps/);
    expect(app.get(Coordinator).isStarted).toBe(false);
    await app.close();
  });

  it('@Leader() on a request-scoped provider names the class and method', async () => {
    const { url, name } = testBackend(driver);
    @Injectable({ scope: Scope.REQUEST })
    class ScopedJob {
      @Leader(name('g'))
      run() {}
    }
    const app = await compileApp([CoordinationModule.forRoot({ url: url() })], [ScopedJob]);
    await expect(app.init()).rejects.toThrow(/@Leader\(\) on ScopedJob\.run: the provider is request-scoped/);
    await app.close();
  });

  it('@WithLock() / @OnMemberJoined() on a provider depending on a request-scoped one', async () => {
    const { url, name } = testBackend(driver);
    @Injectable({ scope: Scope.REQUEST })
    class RequestContext {}
    @Injectable()
    class Consumer {
      constructor(readonly context: RequestContext) {}
      @WithLock(name('l'))
      @OnMemberJoined(name('g'))
      work() {}
    }
    const app = await compileApp([CoordinationModule.forRoot({ url: url() })], [RequestContext, Consumer]);
    await expect(app.init()).rejects.toThrow(/@WithLock\(\), @OnMemberJoined\(\) on Consumer\.work/);
    await app.close();
  });

  it('a decorator on a transient provider that depends on a request-scoped one', async () => {
    const { url, name } = testBackend(driver);
    @Injectable({ scope: Scope.REQUEST })
    class RequestContext {}
    @Injectable({ scope: Scope.TRANSIENT })
    class TransientJob {
      constructor(readonly context: RequestContext) {}
      @Leader(name('g'))
      run() {}
    }
    const app = await compileApp([CoordinationModule.forRoot({ url: url() })], [RequestContext, TransientJob]);
    await expect(app.init()).rejects.toThrow(/@Leader\(\) on TransientJob\.run: the provider is request-scoped/);
    await app.close();
  });

  it('one provider instance shared by two running applications', async () => {
    const { url, name } = testBackend(driver);
    class SharedJob {
      @Leader(name('g'))
      run() {}
    }
    const shared = new SharedJob();
    await start([CoordinationModule.forRoot({ url: url() })], [{ provide: SharedJob, useValue: shared }]);
    const second = await compileApp(
      [CoordinationModule.forRoot({ url: url() })],
      [{ provide: SharedJob, useValue: shared }],
    );
    await expect(second.init()).rejects.toThrow(
      /SharedJob\.run is already guarded by another application's coordinator/,
    );
    await second.close();
  });
});

// These reach no backend (an unknown scheme, a decorator's arguments), so they run once rather than per driver.
describe('misconfiguration that reaches no backend', () => {
  it('an unknown scheme', async () => {
    await expect(compileApp([CoordinationModule.forRoot({ url: 'nosuch://host' })])).rejects.toThrow(
      /option url nosuch:\/\/host.*No coordination driver for scheme nosuch:\/\/.*memory:\/\//,
    );
  });

  it('a password in the URL is not printed', async () => {
    const failure = compileApp([CoordinationModule.forRoot({ url: 'nosuch://user:s3cret@host' })]);
    await expect(failure).rejects.toThrow(/nosuch/);
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });

  it('no credential is printed at bootstrap, nor kept in the error: a password with a slash, a sentinel_password option', async () => {
    const url = 'memory://user:pa/ss@host?sentinel_password=hunter2&bogus=1';
    const error: unknown = await compileApp([CoordinationModule.forRoot({ url })]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const printed = inspect(error, { depth: 5 });
    expect(printed).toMatch(/bogus/);
    expect(printed).not.toMatch(/pa\/ss|hunter2/);
  });

  it('decorators refuse bad arguments and non-methods where they are written', () => {
    expect(() => Leader('')).toThrow(TypeError);
    expect(() => WithLock('l', { onLocked: 'wait' as never })).toThrow(
      /onLocked must be 'throw' or 'skip', got "wait"/,
    );
    expect(() => WithLock('l', { timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => WithLock('l', { timeoutMs: Number.POSITIVE_INFINITY })).toThrow(
      /timeoutMs must be a number of milliseconds from 0 to 2147483647, got Infinity/,
    );
    expect(() => {
      class StaticJob {
        @Leader('g')
        static run() {}
      }
      return StaticJob;
    }).toThrow(/@Leader\(\) on StaticJob\.run: only instance methods/);
    expect(() => {
      class Twice {
        @Leader('a')
        @Leader('b')
        run() {}
      }
      return Twice;
    }).toThrow(/@Leader\(\) is applied twice to Twice\.run/);
  });
});

// memory:// by nature: what the module does with no url, and what the memory driver lacks.
describe('CoordinationModule on memory:// only', () => {
  it('defaults to memory:// and a member id of host name, pid and a random suffix', async () => {
    const a = await start([CoordinationModule.forRoot()]);
    const b = await start([CoordinationModule.forRoot({})]);
    const id = a.get(Coordinator).memberId;
    expect(id).toContain(`-${process.pid}-`);
    expect(id).not.toBe(b.get(Coordinator).memberId);
  });

  it('characteristics the driver lacks: the DriverChosenPoorlyError itself, naming the driver', async () => {
    const failure = compileApp([
      CoordinationModule.forRoot({
        url: testBackend(memoryDriver).url(),
        characteristics: [Characteristic.DistributedAcrossHosts],
      }),
    ]);
    await expect(failure).rejects.toBeInstanceOf(DriverChosenPoorlyError);
    await expect(failure).rejects.toThrow(
      /^Driver memory:\/\/ lacks the required characteristics: DISTRIBUTED_ACROSS_HOSTS$/,
    );
  });
});

describe.each(drivers)('one provider instance, one application after another, on $name', (driver) => {
  it('once the first application has closed, the next one owns the instance', async () => {
    const { url, name } = testBackend(driver);
    class SharedJob {
      @Leader(name('g'))
      async run() {
        return 'ran';
      }
    }
    const shared = new SharedJob();
    const first = await createApp(
      [CoordinationModule.forRoot({ url: url() })],
      [{ provide: SharedJob, useValue: shared }],
    );
    expect(await shared.run()).toBe('ran');
    await first.close();
    expect(await shared.run()).toBeUndefined();
    await start([CoordinationModule.forRoot({ url: url() })], [{ provide: SharedJob, useValue: shared }]);
    expect(await shared.run()).toBe('ran');
  });
});
