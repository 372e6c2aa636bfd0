import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import type { TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  COORDINATION_HEARTBEAT_JOB,
  COORDINATION_WATCHERS_JOB,
  CoordinationError,
  CoordinationModule,
  type CoordinationModuleOptions,
  Coordinator,
  currentLockSignal,
  getCoordinator,
  Leader,
  LockAcquireFailedError,
  OnMemberJoined,
  WithLock,
} from '../../lib/index.js';
import { drivers, testBackend } from '../support/drivers.js';
import { failing, failingDrivers } from '../support/failing-driver.js';
import { createApp, deferred, RecordingLogger, sleep, waitFor } from './support.js';

const apps: TestingModule[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(
  options: CoordinationModuleOptions,
  providers: unknown[] = [],
  logger = new RecordingLogger(),
  { ownScheduleModule = false } = {},
) {
  const coordination = CoordinationModule.forRoot(options);
  const imports = ownScheduleModule ? [coordination, ScheduleModule.forRoot()] : [coordination];
  const app = await createApp(imports, providers as never, logger);
  apps.push(app);
  return app;
}

/** Start times and durations of each `heartbeat()` call from now on, each made to take `slowMs(n)` ms more. */
function timeBeats(coordinator: Coordinator, slowMs: (n: number) => number = () => 0) {
  const beats: { startedAt: number; endedAt?: number }[] = [];
  const original = coordinator.heartbeat.bind(coordinator);
  vi.spyOn(coordinator, 'heartbeat').mockImplementation(async () => {
    const beat: { startedAt: number; endedAt?: number } = { startedAt: performance.now() };
    beats.push(beat);
    try {
      const delay = slowMs(beats.length);
      if (delay > 0) await sleep(delay);
      return await original();
    } finally {
      beat.endedAt = performance.now();
    }
  });
  return beats;
}

function forget(app: TestingModule) {
  apps.splice(apps.indexOf(app), 1);
}

describe.each(drivers)('the heart on $name', (driver) => {
  it('lists heartbeat and watchers as named intervals in the application’s SchedulerRegistry, and removes them at close', async () => {
    const app = await start({ url: testBackend(driver).url(), watchers: { intervalMs: 50 } }, [], undefined, {
      ownScheduleModule: true,
    });
    const registry = app.get(SchedulerRegistry);
    expect(registry.getIntervals()).toEqual(
      expect.arrayContaining([COORDINATION_HEARTBEAT_JOB, COORDINATION_WATCHERS_JOB]),
    );
    expect(registry.doesExist('interval', COORDINATION_HEARTBEAT_JOB)).toBe(true);
    await app.close();
    forget(app);
    expect(registry.doesExist('interval', COORDINATION_HEARTBEAT_JOB)).toBe(false);
    expect(registry.doesExist('interval', COORDINATION_WATCHERS_JOB)).toBe(false);
  });

  it('calls the public heartbeat() and runWatchers() at each tick, no more often than asked, and nothing after close', async () => {
    // lock_timeout=0.2 → the driver asks for a beat every 100 ms; the watchers run every 50 ms.
    const app = await start({ url: testBackend(driver).url({ lock_timeout: 0.2 }), watchers: { intervalMs: 50 } });
    const coordinator = app.get(Coordinator);
    const beats = vi.spyOn(coordinator, 'heartbeat');
    const watches = vi.spyOn(coordinator, 'runWatchers');
    const since = performance.now();
    // The lower bound: the heart runs both jobs (waiting on the calls, not a fixed sleep, so a slow CPU only delays it).
    await waitFor(() => beats.mock.calls.length >= 4 && watches.mock.calls.length >= 8, 10_000, 'beats and runs');
    // The upper bound: never more often than the intervals allow (a tick may run at most once per interval).
    const elapsed = performance.now() - since;
    expect(beats.mock.calls.length).toBeLessThanOrEqual(Math.floor(elapsed / 100) + 1);
    expect(watches.mock.calls.length).toBeLessThanOrEqual(Math.floor(elapsed / 50) + 1);
    await app.close();
    forget(app);
    const [beatsAtClose, watchesAtClose] = [beats.mock.calls.length, watches.mock.calls.length];
    await sleep(300);
    expect(beats.mock.calls.length).toBe(beatsAtClose);
    expect(watches.mock.calls.length).toBe(watchesAtClose);
    expect(coordinator.isStarted).toBe(false);
  });

  it('beats at heartbeat.intervalMs when given, and warns when that is slower than the driver needs', async () => {
    const logger = new RecordingLogger();
    const url = testBackend(driver).url({ lock_timeout: 1 });
    const startedAt = performance.now();
    const app = await start({ url, heartbeat: { intervalMs: 700 } }, [], logger);
    const beats = timeBeats(app.get(Coordinator));
    expect(logger.messages('warn').join('\n')).toMatch(
      /heartbeat\.intervalMs is 700 ms, but the driver needs a beat every 500 ms/,
    );
    await waitFor(() => beats.length >= 2, 5000, 'two beats');
    // At 700 ms, not the 500 ms the driver asks for: the first due 700 ms after bootstrap, the next 700 ms later.
    expect(beats[0]!.startedAt - startedAt).toBeGreaterThanOrEqual(690);
    expect(beats[1]!.startedAt - beats[0]!.startedAt).toBeGreaterThanOrEqual(690);
  });

  it('does not beat with heartbeat.enabled: false', async () => {
    const app = await start({ url: testBackend(driver).url(), heartbeat: { enabled: false } }, [], undefined, {
      ownScheduleModule: true,
    });
    const registry = app.get(SchedulerRegistry);
    expect(registry.doesExist('interval', COORDINATION_HEARTBEAT_JOB)).toBe(false);
    expect(registry.doesExist('interval', COORDINATION_WATCHERS_JOB)).toBe(true);
  });

  it('starts the coordinator before other providers bootstrap, and stops it after they shut down', async () => {
    const { url, name } = testBackend(driver);
    const seen: string[] = [];
    @Injectable()
    class Consumer implements OnApplicationBootstrap, OnApplicationShutdown {
      constructor(private readonly coordinator: Coordinator) {}
      onApplicationBootstrap() {
        seen.push(`bootstrap started=${this.coordinator.isStarted} leads=${this.coordinator.isLeaderOf(name('g'))}`);
      }
      onApplicationShutdown() {
        seen.push(`shutdown started=${this.coordinator.isStarted}`);
      }
      @Leader(name('g'))
      lead() {}
    }
    const app = await start({ url: url() }, [Consumer]);
    await app.close();
    forget(app);
    expect(seen).toEqual(['bootstrap started=true leads=true', 'shutdown started=true']);
  });
});

describe.each(drivers)('the heart subtracts the time a beat took, as tooz’s does, on $name', (driver) => {
  it('the next beat is due intervalMs after the last one began; one slower than that is followed at once', async () => {
    const logger = new RecordingLogger();
    const app = await start({ url: testBackend(driver).url(), heartbeat: { intervalMs: 400 } }, [], logger);
    const coordinator = app.get(Coordinator);
    // The 1st beat takes 250 ms (less than the interval), the 2nd 500 ms (more), the others no extra time.
    const beats = timeBeats(coordinator, (n) => (n === 1 ? 250 : n === 2 ? 500 : 0));
    await waitFor(() => beats.length >= 4, 10_000, 'four beats');
    const [first, second, third, fourth] = beats as [Required<(typeof beats)[number]>, ...typeof beats];
    // 400 ms from start to start, not 400 ms of idle after a 250 ms beat (650), and never early.
    expect(second.startedAt - first.startedAt).toBeGreaterThanOrEqual(390);
    expect(second.startedAt - first.startedAt).toBeLessThan(600);
    // After the 500 ms beat the next is overdue: it follows at once, where a fixed 400 ms tick would idle to 800.
    expect(third!.startedAt - second.endedAt!).toBeLessThan(200);
    // Then back to the interval.
    expect(fourth!.startedAt - third!.startedAt).toBeGreaterThanOrEqual(390);
    expect(logger.messages('warn').join('\n')).toMatch(
      /Heartbeat of member \S+ took 5\d\d ms, longer than the 400 ms between beats: beating again at once/,
    );
    expect(coordinator.isStarted).toBe(true);
  });
});

// On each driver behind a FaultyBackend (failing://, failing+redis://) told to throw.
describe.each(failingDrivers)('the heart on $name when the backend fails', (failingDriver) => {
  it('logs a failing beat or watcher run through Nest’s Logger and retries at the next tick', async () => {
    const logger = new RecordingLogger();
    const app = await start(
      {
        url: testBackend(failingDriver).url({ lock_timeout: 0.1 }),
        memberId: 'flaky',
        watchers: { intervalMs: 30 },
        groups: [{ groupId: 'crew' }],
      },
      [],
      logger,
    );
    const coordinator = app.get(Coordinator);
    // A watched group, so that each watchers run reads its members from the backend.
    await coordinator.watchJoinGroup('crew', () => undefined);
    const backend = failing(coordinator);
    backend.fail('backendHeartbeat', new Error('backend down'));
    backend.fail('backendGetMembers', new Error('watch broke'));
    await waitFor(() => backend.calls('backendHeartbeat') >= 3 && backend.calls('backendGetMembers') >= 3);
    const errors = logger.messages('error').join('\n');
    expect(errors).toMatch(/Heartbeat of member flaky failed, retrying at the next tick: backend down/);
    expect(errors).toMatch(/Running the watchers of member flaky failed, retrying at the next tick: watch broke/);
    expect(coordinator.isStarted).toBe(true);
  });
});

/** A provider whose guarded call holds lock `lockName` until its gate opens, and which leads `leadGroup`. */
function workerClass(lockName: string, leadGroup = `${lockName}-lead`) {
  @Injectable()
  class Worker {
    gate = deferred();
    signal: AbortSignal | undefined;
    @WithLock(lockName)
    async run() {
      this.signal = currentLockSignal();
      await this.gate.promise;
      return 'done';
    }
    @Leader(leadGroup)
    async lead() {}
  }
  return Worker;
}

describe.each(drivers)('shutdown on $name', (driver) => {
  it('waits for a running guarded call, keeping its lock, then releases, stands down, leaves and stops', async () => {
    const { url: backendUrl, name } = testBackend(driver);
    const [WORK, CREW, LEAD, CLOSING] = [name('work'), name('crew'), name('lead'), name('closing')];
    const Worker = workerClass(WORK, LEAD);
    const url = backendUrl({ lock_timeout: 0.3 });
    const app = await start({ url, memberId: CLOSING, groups: [{ groupId: CREW }] }, [Worker]);
    const observer = getCoordinator(url, name('observer'));
    await observer.start({ startHeart: true });
    try {
      const worker = app.get(Worker);
      const call = worker.run();
      await waitFor(() => worker.signal !== undefined);
      let closed = false;
      const closing = app.close().then(() => (closed = true));
      forget(app);
      await sleep(700); // more than two lock timeouts: the heart keeps beating while shutdown waits
      expect(closed).toBe(false);
      expect(await observer.getLock(WORK).acquire({ blocking: false })).toBe(false);
      expect(await observer.getMembers(CREW)).toEqual(new Set([CLOSING]));
      expect(await observer.getLeader(LEAD)).toBe(CLOSING);
      worker.gate.resolve();
      expect(await call).toBe('done');
      await closing;
      expect(worker.signal!.aborted).toBe(false);
      // Stood down and left at once (its leadership would otherwise last a lock timeout past its last beat).
      expect(await observer.getLeader(LEAD)).toBeNull();
      expect(await observer.getMembers(CREW)).toEqual(new Set());
      expect(await observer.getMembers(LEAD)).toEqual(new Set());
      expect(app.get(Coordinator).isStarted).toBe(false);
      const lock = observer.getLock(WORK);
      expect(await lock.acquire({ blocking: false })).toBe(true);
      await lock.release();
    } finally {
      await observer.stop();
    }
  });

  it('stops waiting after shutdown.timeoutMs: aborts the call’s lock signal and releases its lock', async () => {
    const { url, name } = testBackend(driver);
    const Worker = workerClass(name('work'));
    const logger = new RecordingLogger();
    const app = await start({ url: url(), shutdown: { timeoutMs: 100 } }, [Worker], logger);
    const worker = app.get(Worker);
    void worker.run();
    await waitFor(() => worker.signal !== undefined);
    await app.close();
    forget(app);
    expect(worker.signal!.aborted).toBe(true);
    expect(logger.messages('warn').join('\n')).toMatch(
      /1 @Leader\/@WithLock call\(s\) still running 100 ms after shutdown began/,
    );
    const observer = getCoordinator(url(), name('observer'));
    await observer.start();
    expect(await observer.getLock(name('work')).acquire({ blocking: false })).toBe(true);
    await observer.stop();
    worker.gate.resolve();
  });
});

describe.each(drivers)('shutdown is bounded by shutdown.timeoutMs on $name', (driver) => {
  const gate = deferred();
  let handlerEntered = false;

  /** A handler for joins to `group` that never returns until `gate` opens. */
  function slowJoinHandler(group: string) {
    @Injectable()
    class SlowJoinHandler {
      @OnMemberJoined(group)
      async onJoin() {
        handlerEntered = true;
        await gate.promise; // e.g. a call to a service that never answers
      }
    }
    return SlowJoinHandler;
  }

  afterEach(() => gate.resolve());

  it('a watchers run whose handler never returns: app.close() waits shutdown.timeoutMs, warns, and stops anyway', async () => {
    const { url, name } = testBackend(driver);
    const CLOSING = name('closing');
    const logger = new RecordingLogger();
    const app = await start(
      { url: url(), memberId: CLOSING, watchers: { intervalMs: 20 }, shutdown: { timeoutMs: 100 } },
      [slowJoinHandler(name('crew'))],
      logger,
    );
    const peer = getCoordinator(url(), name('peer'));
    await peer.start();
    try {
      await peer.joinGroup(name('crew'));
      await waitFor(() => handlerEntered, 2000, 'the handler to run');
      forget(app);
      const closed = await Promise.race([app.close().then(() => true), sleep(1500).then(() => false)]);
      expect(closed, 'app.close() still pending 1.5 s after it began (shutdown.timeoutMs = 100)').toBe(true);
      expect(app.get(Coordinator).isStarted).toBe(false);
      expect(logger.messages('warn').join('\n')).toMatch(
        new RegExp(`The watchers run of member ${CLOSING} still running 100 ms after shutdown began`),
      );
    } finally {
      await peer.stop();
    }
  });
});

describe.each(drivers)('shutdown and @WithLock() calls still waiting for their lock on $name', (driver) => {
  /** A job guarded by @WithLock(`lockName`). */
  function nightlyJobClass(lockName: string) {
    @Injectable()
    class NightlyJob {
      runs = 0;
      @WithLock(lockName)
      async run() {
        this.runs++;
      }
    }
    return NightlyJob;
  }

  async function heldBy(url: string, memberId: string, lockName: string) {
    const holder = getCoordinator(url, memberId);
    await holder.start();
    const lock = holder.getLock(lockName);
    expect(await lock.acquire()).toBe(true);
    return { holder, lock };
  }

  it('give up as soon as shutdown begins: app.close() does not wait for them, and they reject naming the method and the lock', async () => {
    const { url, name } = testBackend(driver);
    const NIGHTLY = name('nightly');
    const NightlyJob = nightlyJobClass(NIGHTLY);
    const { holder, lock } = await heldBy(url(), name('holder'), NIGHTLY);
    try {
      const app = await start({ url: url(), shutdown: { timeoutMs: 3000 } }, [NightlyJob]);
      const job = app.get(NightlyJob);
      const call = job.run().catch((error: unknown) => error);
      await sleep(50); // queued behind 'holder'
      const began = Date.now();
      forget(app);
      await app.close();
      expect(Date.now() - began, 'app.close() waited for a call that held no lock').toBeLessThan(1000);
      const error = await call;
      expect(error).toBeInstanceOf(CoordinationError);
      expect(error).not.toBeInstanceOf(LockAcquireFailedError);
      expect(String(error)).toMatch(
        new RegExp(
          `@WithLock\\(\\) on NightlyJob\\.run gave up waiting for lock ${NIGHTLY}: the application is shutting down`,
        ),
      );
      expect(job.runs).toBe(0);
    } finally {
      await lock.release();
      await holder.stop();
    }
  });

  it('a lock granted after its call gave up is released at once, and a call made during shutdown gives up at once', async () => {
    const { url, name } = testBackend(driver);
    const NIGHTLY = name('nightly');
    const NightlyJob = nightlyJobClass(NIGHTLY);
    const { holder, lock } = await heldBy(url(), name('holder'), NIGHTLY);
    const seen: { freedAfterGrant?: boolean; late?: unknown } = {};
    @Injectable()
    class ReleasesAtShutdown implements OnApplicationShutdown {
      constructor(@Inject(NightlyJob) private readonly job: InstanceType<typeof NightlyJob>) {}
      // Runs before CoordinationModule's own shutdown hook, while the coordinator is still started.
      async onApplicationShutdown() {
        await lock.release(); // the memory backend grants the lock to the abandoned call's handle now
        await sleep(20);
        const probe = holder.getLock(NIGHTLY);
        seen.freedAfterGrant = await probe.acquire({ blocking: false });
        if (seen.freedAfterGrant) await probe.release();
        seen.late = await this.job.run().catch((error: unknown) => error);
      }
    }
    try {
      const app = await start({ url: url() }, [NightlyJob, ReleasesAtShutdown]);
      const call = app
        .get(NightlyJob)
        .run()
        .catch((error: unknown) => error);
      await sleep(50);
      forget(app);
      await app.close();
      expect(String(await call)).toMatch(new RegExp(`gave up waiting for lock ${NIGHTLY}`));
      expect(seen.freedAfterGrant, 'the abandoned call kept the lock it was granted').toBe(true);
      expect(String(seen.late)).toMatch(
        new RegExp(`NightlyJob\\.run gave up waiting for lock ${NIGHTLY}: the application is shutting down`),
      );
      expect(app.get(NightlyJob).runs).toBe(0);
    } finally {
      await holder.stop();
    }
  });
});
