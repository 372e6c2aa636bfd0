import { Inject, Injectable, Module, Scope } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
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
import { compileApp, createApp, memoryUrl } from './support.js';

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

describe('CoordinationModule.forRoot', () => {
  it('provides one started Coordinator, injectable by its class and by @InjectCoordinator()', async () => {
    const url = memoryUrl();
    const app = await start([CoordinationModule.forRoot({ url, memberId: 'm1' })], [NeedsCoordinator]);
    const consumer = app.get(NeedsCoordinator);
    expect(consumer.byClass).toBeInstanceOf(Coordinator);
    expect(consumer.byDecorator).toBe(consumer.byClass);
    expect(app.get(Coordinator)).toBe(consumer.byClass);
    expect(consumer.byClass.memberId).toBe('m1');
    expect(consumer.byClass.isStarted).toBe(true);
  });

  it('defaults to memory:// and a member id of host name, pid and a random suffix', async () => {
    const a = await start([CoordinationModule.forRoot()]);
    const b = await start([CoordinationModule.forRoot({})]);
    const id = a.get(Coordinator).memberId;
    expect(id).toContain(`-${process.pid}-`);
    expect(id).not.toBe(b.get(Coordinator).memberId);
  });

  it('is global by default, so a feature module can inject the coordinator', async () => {
    @Module({ providers: [NeedsCoordinator] })
    class FeatureModule {}
    const app = await start([CoordinationModule.forRoot({ url: memoryUrl() }), FeatureModule]);
    expect(app.get(NeedsCoordinator).byClass).toBe(app.get(Coordinator));
  });

  it('with isGlobal: false, only importing modules see it', async () => {
    @Module({ providers: [NeedsCoordinator] })
    class FeatureModule {}
    await expect(
      compileApp([CoordinationModule.forRoot({ url: memoryUrl(), isGlobal: false }), FeatureModule]),
    ).rejects.toThrow(/Coordinator/);
  });

  it('joins the configured groups with their capabilities at bootstrap and leaves them at close', async () => {
    const url = memoryUrl();
    const app = await createApp([
      CoordinationModule.forRoot({
        url,
        memberId: 'api-1',
        groups: [{ groupId: 'api', capabilities: { role: 'api', v: 2 } }, { groupId: 'all' }],
      }),
    ]);
    const observer = getCoordinator(url, 'observer');
    await observer.start();
    try {
      expect(await observer.getMembers('api')).toEqual(new Set(['api-1']));
      expect(await observer.getMemberCapabilities('api', 'api-1')).toEqual({ role: 'api', v: 2 });
      expect(await observer.getMembers('all')).toEqual(new Set(['api-1']));
      expect(app.get(Coordinator).groups).toEqual(new Set(['api', 'all']));
      await app.close();
      expect(await observer.getMembers('api')).toEqual(new Set());
      expect(await observer.getMembers('all')).toEqual(new Set());
      expect(app.get(Coordinator).isStarted).toBe(false);
    } finally {
      await observer.stop();
    }
  });
});

describe('CoordinationModule.forRootAsync', () => {
  @Injectable()
  class AppConfig {
    readonly url = memoryUrl();
    readonly memberId = 'from-config';
  }
  @Module({ providers: [AppConfig], exports: [AppConfig] })
  class ConfigModule {}

  it('takes options from a factory with injected config', async () => {
    const app = await start([
      CoordinationModule.forRootAsync({
        imports: [ConfigModule],
        inject: [AppConfig],
        useFactory: async (config: AppConfig): Promise<CoordinationModuleOptions> => ({
          url: config.url,
          memberId: config.memberId,
          groups: [{ groupId: 'async-group' }],
        }),
      }),
    ]);
    const coordinator = app.get(Coordinator);
    expect(coordinator.memberId).toBe('from-config');
    expect(coordinator.isStarted).toBe(true);
    expect(await coordinator.getMembers('async-group')).toEqual(new Set(['from-config']));
  });

  it('takes options from a useClass factory', async () => {
    @Injectable()
    class OptionsFactory implements CoordinationOptionsFactory {
      createCoordinationOptions(): CoordinationModuleOptions {
        return { url: memoryUrl(), memberId: 'from-class' };
      }
    }
    const app = await start([CoordinationModule.forRootAsync({ useClass: OptionsFactory })]);
    expect(app.get(Coordinator).memberId).toBe('from-class');
  });

  it('takes options from an existing provider (useExisting), and accepts isGlobal', async () => {
    @Injectable()
    class SharedOptions implements CoordinationOptionsFactory {
      constructor(@Inject(AppConfig) private readonly config: AppConfig) {}
      createCoordinationOptions(): CoordinationModuleOptions {
        return { url: this.config.url, memberId: 'from-existing' };
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
    expect(app.get(NeedsCoordinator).byClass.memberId).toBe('from-existing');
  });
});

describe('misconfiguration fails at bootstrap, naming what is wrong', () => {
  it('an unknown scheme', async () => {
    await expect(compileApp([CoordinationModule.forRoot({ url: 'nosuch://host' })])).rejects.toThrow(
      /option url nosuch:\/\/host.*No coordination driver for scheme nosuch:\/\/.*memory:\/\//,
    );
  });

  it('a bad URL option', async () => {
    await expect(compileApp([CoordinationModule.forRoot({ url: 'memory://x?timeout=abc' })])).rejects.toThrow(
      /option url .*timeout=abc must be a positive number of seconds/,
    );
  });

  it('a password in the URL is not printed', async () => {
    const failure = compileApp([CoordinationModule.forRoot({ url: 'nosuch://user:s3cret@host' })]);
    await expect(failure).rejects.toThrow(/nosuch/);
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });

  it('a bad module option', async () => {
    await expect(
      compileApp([CoordinationModule.forRoot({ url: memoryUrl(), watchers: { intervalMs: -5 } })]),
    ).rejects.toThrow(
      /CoordinationModule option watchers\.intervalMs must be a positive number of milliseconds, got -5/,
    );
    await expect(
      compileApp([CoordinationModule.forRoot({ heartbeat: { intervalMs: 'fast' as never } })]),
    ).rejects.toThrow(/heartbeat\.intervalMs/);
    await expect(compileApp([CoordinationModule.forRoot({ groups: [{ groupId: '' }] })])).rejects.toThrow(
      /groups\[0\]\.groupId/,
    );
  });

  it.each([
    ['watchers.intervalMs', { watchers: { intervalMs: 30 * 24 * 3600 * 1000 } }],
    ['heartbeat.intervalMs', { heartbeat: { intervalMs: 2 ** 31 } }],
    ['shutdown.timeoutMs', { shutdown: { timeoutMs: Number.POSITIVE_INFINITY } }],
  ])('%s beyond the longest Node timer (which would fire every 1 ms instead)', async (option, options) => {
    await expect(compileApp([CoordinationModule.forRoot({ url: memoryUrl(), ...options })])).rejects.toThrow(
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
    await expect(
      compileApp([CoordinationModule.forRoot({ url: memoryUrl(), ...(options as CoordinationModuleOptions) })]),
    ).rejects.toThrow(message);
  });

  it('capabilities the backend cannot carry: bootstrap fails naming the group, and the coordinator is stopped again', async () => {
    const app = await compileApp([
      CoordinationModule.forRoot({
        url: memoryUrl(),
        groups: [{ groupId: 'bad-caps', capabilities: { when: new Date() } as never }],
      }),
    ]);
    await expect(app.init()).rejects.toThrow(/bad-caps/);
    expect(app.get(Coordinator).isStarted).toBe(false);
    await app.close();
  });

  it('characteristics the driver lacks: the DriverChosenPoorlyError itself, naming the driver', async () => {
    const failure = compileApp([
      CoordinationModule.forRoot({ url: memoryUrl(), characteristics: [Characteristic.DistributedAcrossHosts] }),
    ]);
    await expect(failure).rejects.toBeInstanceOf(DriverChosenPoorlyError);
    await expect(failure).rejects.toThrow(
      /^Driver memory:\/\/ lacks the required characteristics: DISTRIBUTED_ACROSS_HOSTS$/,
    );
  });

  it('@Leader() on a request-scoped provider names the class and method', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class ScopedJob {
      @Leader('g')
      run() {}
    }
    const app = await compileApp([CoordinationModule.forRoot({ url: memoryUrl() })], [ScopedJob]);
    await expect(app.init()).rejects.toThrow(/@Leader\(\) on ScopedJob\.run: the provider is request-scoped/);
    await app.close();
  });

  it('@WithLock() / @OnMemberJoined() on a provider depending on a request-scoped one', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class RequestContext {}
    @Injectable()
    class Consumer {
      constructor(readonly context: RequestContext) {}
      @WithLock('l')
      @OnMemberJoined('g')
      work() {}
    }
    const app = await compileApp([CoordinationModule.forRoot({ url: memoryUrl() })], [RequestContext, Consumer]);
    await expect(app.init()).rejects.toThrow(/@WithLock\(\), @OnMemberJoined\(\) on Consumer\.work/);
    await app.close();
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

  it('a second ScheduleModule.forRoot() beside the one CoordinationModule imports', async () => {
    const app = await compileApp([ScheduleModule.forRoot(), CoordinationModule.forRoot({ url: memoryUrl() })]);
    await expect(app.init()).rejects.toThrow(/imports ScheduleModule 2 times.*importScheduleModule: false/);
    await app.close();
  });

  it('importScheduleModule: false without a ScheduleModule', async () => {
    await expect(
      compileApp([CoordinationModule.forRoot({ url: memoryUrl(), importScheduleModule: false })]),
    ).rejects.toThrow(/no SchedulerRegistry is available: import ScheduleModule\.forRoot\(\)/);
  });

  it('a decorator on a transient provider that depends on a request-scoped one', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class RequestContext {}
    @Injectable({ scope: Scope.TRANSIENT })
    class TransientJob {
      constructor(readonly context: RequestContext) {}
      @Leader('g')
      run() {}
    }
    const app = await compileApp([CoordinationModule.forRoot({ url: memoryUrl() })], [RequestContext, TransientJob]);
    await expect(app.init()).rejects.toThrow(/@Leader\(\) on TransientJob\.run: the provider is request-scoped/);
    await app.close();
  });

  it('one provider instance shared by two running applications', async () => {
    class SharedJob {
      @Leader('g')
      run() {}
    }
    const shared = new SharedJob();
    const url = memoryUrl();
    await start([CoordinationModule.forRoot({ url })], [{ provide: SharedJob, useValue: shared }]);
    const second = await compileApp([CoordinationModule.forRoot({ url })], [{ provide: SharedJob, useValue: shared }]);
    await expect(second.init()).rejects.toThrow(
      /SharedJob\.run is already guarded by another application's coordinator/,
    );
    await second.close();
  });
});

describe('one provider instance, one application after another', () => {
  it('once the first application has closed, the next one owns the instance', async () => {
    class SharedJob {
      @Leader('g')
      async run() {
        return 'ran';
      }
    }
    const shared = new SharedJob();
    const url = memoryUrl();
    const first = await createApp([CoordinationModule.forRoot({ url })], [{ provide: SharedJob, useValue: shared }]);
    expect(await shared.run()).toBe('ran');
    await first.close();
    expect(await shared.run()).toBeUndefined();
    await start([CoordinationModule.forRoot({ url })], [{ provide: SharedJob, useValue: shared }]);
    expect(await shared.run()).toBe('ran');
  });
});
