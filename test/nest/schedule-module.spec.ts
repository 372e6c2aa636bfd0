import { type DynamicModule, Injectable } from '@nestjs/common';
import { Cron, Interval, ScheduleModule, SchedulerRegistry, Timeout } from '@nestjs/schedule';
import type { TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  COORDINATION_HEARTBEAT_JOB,
  COORDINATION_WATCHERS_JOB,
  CoordinationModule,
  type CoordinationModuleOptions,
  Coordinator,
  getCoordinator,
  Leader,
} from '../../lib/index.js';
import { drivers, testBackend } from '../support/drivers.js';
import { compileApp, createApp, RecordingLogger, sleep, waitFor } from './support.js';

const INTERVAL_MS = 100;

/** The application's own scheduled jobs, recording when each call ran. */
function appJobs(group: string) {
  @Injectable()
  class AppJobs {
    readonly intervals: number[] = [];
    readonly crons: number[] = [];
    timeouts = 0;
    led = 0;

    @Interval('app-interval', INTERVAL_MS)
    tick() {
      this.intervals.push(performance.now());
    }

    @Cron('* * * * * *', { name: 'app-cron' })
    everySecond() {
      this.crons.push(performance.now());
    }

    @Timeout('app-timeout', 30)
    once() {
      this.timeouts++;
    }

    @Interval(INTERVAL_MS)
    @Leader(group)
    lead() {
      this.led++;
    }
  }
  return AppJobs;
}

/** The shortest gap between consecutive calls: a second scheduler would fire each tick twice, a few ms apart. */
function shortestGap(times: readonly number[]): number {
  let shortest = Number.POSITIVE_INFINITY;
  for (let i = 1; i < times.length; i++) shortest = Math.min(shortest, times[i]! - times[i - 1]!);
  return shortest;
}

const apps: TestingModule[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

type Arrangement = 'ScheduleModule before' | 'ScheduleModule after' | 'no ScheduleModule';
type Registration = 'forRoot' | 'forRootAsync';

function imports(arrangement: Arrangement, coordination: DynamicModule): DynamicModule[] {
  if (arrangement === 'ScheduleModule before') return [ScheduleModule.forRoot(), coordination];
  if (arrangement === 'ScheduleModule after') return [coordination, ScheduleModule.forRoot()];
  return [coordination];
}

function coordinationModule(registration: Registration, options: CoordinationModuleOptions): DynamicModule {
  return registration === 'forRoot'
    ? CoordinationModule.forRoot(options)
    : CoordinationModule.forRootAsync({ useFactory: async () => options });
}

const withScheduleModule: [Arrangement, Registration][] = [
  ['ScheduleModule before', 'forRoot'],
  ['ScheduleModule after', 'forRoot'],
  ['ScheduleModule before', 'forRootAsync'],
  ['ScheduleModule after', 'forRootAsync'],
];

describe.each(drivers)('CoordinationModule in an application with its own ScheduleModule, on $name', (driver) => {
  it.each(withScheduleModule)(
    '%s CoordinationModule.%s: starts, each app job fires once per tick, and the heart beats',
    async (arrangement, registration) => {
      const { url, name } = testBackend(driver);
      const AppJobs = appJobs(name('ops'));
      const logger = new RecordingLogger();
      // lock_timeout=0.2 → the driver asks for a beat every 100 ms.
      const options = { url: url({ lock_timeout: 0.2 }), watchers: { intervalMs: 50 } };
      const app = await createApp(imports(arrangement, coordinationModule(registration, options)), [AppJobs], logger);
      apps.push(app);
      const coordinator = app.get(Coordinator);
      const beats = vi.spyOn(coordinator, 'heartbeat');
      const jobs = app.get(AppJobs);

      // The heart's jobs are listed by name in the application's registry, beside the application's own.
      const registry = app.get(SchedulerRegistry);
      expect(new Set(registry.getIntervals())).toEqual(
        new Set(['app-interval', expect.any(String), COORDINATION_HEARTBEAT_JOB, COORDINATION_WATCHERS_JOB]),
      );
      expect([...registry.getCronJobs().keys()]).toEqual(['app-cron']);

      await waitFor(() => jobs.crons.length >= 1 && jobs.intervals.length >= 5 && beats.mock.calls.length >= 3, 5000);
      await sleep(2 * INTERVAL_MS);
      // Once per tick: two schedulers would fire every tick twice, within a few ms of each other.
      expect(shortestGap(jobs.intervals)).toBeGreaterThan(INTERVAL_MS / 2);
      expect(jobs.timeouts).toBe(1);
      expect(jobs.crons.length === 1 || shortestGap(jobs.crons) > 500).toBe(true);
      // The @Leader() job runs: the heart elected this lone member.
      expect(jobs.led).toBeGreaterThan(0);
      expect(logger.messages('warn')).toEqual([]);

      await app.close();
      apps.splice(0);
      const [beatsAtClose, ticksAtClose] = [beats.mock.calls.length, jobs.intervals.length];
      await sleep(3 * INTERVAL_MS);
      expect(beats.mock.calls.length).toBe(beatsAtClose);
      expect(jobs.intervals.length).toBe(ticksAtClose);
      expect(coordinator.isStarted).toBe(false);
    },
  );
});

describe.each(drivers)('CoordinationModule in an application without ScheduleModule, on $name', (driver) => {
  it.each(['forRoot', 'forRootAsync'] as const)(
    'CoordinationModule.%s: starts, and the heart beats and runs the watchers on timers of its own',
    async (registration) => {
      const { url, name } = testBackend(driver);
      // Memberships and locks expire 300 ms after the last beat: the driver asks for a beat every 150 ms.
      const backendUrl = url({ timeout: 0.3, lock_timeout: 0.3 });
      const options = { url: backendUrl, memberId: name('solo'), groups: [{ groupId: name('crew') }] };
      const app = await createApp(imports('no ScheduleModule', coordinationModule(registration, options)));
      apps.push(app);
      const coordinator = app.get(Coordinator);
      const beats = vi.spyOn(coordinator, 'heartbeat');
      const watches = vi.spyOn(coordinator, 'runWatchers');
      expect(() => app.get(SchedulerRegistry, { strict: false })).toThrow();

      await waitFor(() => beats.mock.calls.length >= 6 && watches.mock.calls.length >= 2, 5000, 'beats and runs');
      // Several leases later, the member is still in its group: the beats kept it alive.
      const observer = getCoordinator(backendUrl, name('observer'));
      await observer.start();
      try {
        expect(await observer.getMembers(name('crew'))).toEqual(new Set([name('solo')]));
      } finally {
        await observer.stop();
      }

      await app.close();
      apps.splice(0);
      const [beatsAtClose, watchesAtClose] = [beats.mock.calls.length, watches.mock.calls.length];
      await sleep(300);
      expect(beats.mock.calls.length).toBe(beatsAtClose);
      expect(watches.mock.calls.length).toBe(watchesAtClose);
      expect(coordinator.isStarted).toBe(false);
    },
  );

  it('warns, naming them, when the application has @Interval()/@Cron()/@Timeout() methods that nothing runs', async () => {
    const { url, name } = testBackend(driver);
    const AppJobs = appJobs(name('ops'));
    const logger = new RecordingLogger();
    const app = await createApp([CoordinationModule.forRoot({ url: url() })], [AppJobs], logger);
    apps.push(app);
    expect(logger.messages('warn').join('\n')).toMatch(
      /AppJobs\.tick \(@Interval\(\)\), AppJobs\.everySecond \(@Cron\(\)\), AppJobs\.once \(@Timeout\(\)\), AppJobs\.lead \(@Interval\(\)\) are scheduled with @nestjs\/schedule, but the application does not import ScheduleModule\.forRoot\(\)/,
    );
    await sleep(2 * INTERVAL_MS);
    expect(app.get(AppJobs).intervals).toEqual([]);
  });
});

describe('the deprecated importScheduleModule option', () => {
  it.each([
    ['false, with the application’s ScheduleModule', false, true],
    ['true, beside the application’s ScheduleModule', true, true],
    ['false, without any ScheduleModule', false, false],
  ])('%s: ignored with a warning; the application starts and its jobs run once', async (_, value, ownSchedule) => {
    const { url, name } = testBackend(drivers[0]!);
    const AppJobs = appJobs(name('ops'));
    const logger = new RecordingLogger();
    const coordination = CoordinationModule.forRoot({ url: url(), importScheduleModule: value });
    const app = await createApp(
      ownSchedule ? [ScheduleModule.forRoot(), coordination] : [coordination],
      [AppJobs],
      logger,
    );
    apps.push(app);
    expect(app.get(Coordinator).isStarted).toBe(true);
    expect(logger.messages('warn').join('\n')).toMatch(
      /option importScheduleModule is deprecated and ignored: the module never imports ScheduleModule\.forRoot\(\)/,
    );
    await sleep(3 * INTERVAL_MS);
    const ticks = app.get(AppJobs).intervals;
    if (ownSchedule) {
      expect(ticks.length).toBeGreaterThan(0);
      expect(shortestGap(ticks)).toBeGreaterThan(INTERVAL_MS / 2);
    } else {
      expect(ticks).toEqual([]);
    }
  });

  it('forRootAsync: given beside the factory, it is ignored with a warning', async () => {
    const { url } = testBackend(drivers[0]!);
    const logger = new RecordingLogger();
    const app = await createApp(
      [CoordinationModule.forRootAsync({ importScheduleModule: false, useFactory: () => ({ url: url() }) })],
      [],
      logger,
    );
    apps.push(app);
    expect(logger.messages('warn').join('\n')).toMatch(/option importScheduleModule is deprecated and ignored/);
  });
});

describe('two ScheduleModule.forRoot() of the application’s own', () => {
  it('are refused at start-up: each copy would run every job again', async () => {
    const app = await compileApp([
      ScheduleModule.forRoot(),
      CoordinationModule.forRoot({ url: testBackend(drivers[0]!).url() }),
      ScheduleModule.forRoot(),
    ]);
    await expect(app.init()).rejects.toThrow(
      /imports ScheduleModule 2 times.*import ScheduleModule\.forRoot\(\) once \(CoordinationModule does not import it\)/,
    );
    await app.close();
  });
});
