import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  COORDINATION_HEARTBEAT_JOB,
  COORDINATION_WATCHERS_JOB,
  CoordinationModule,
  type CoordinationModuleOptions,
  Coordinator,
  currentLockSignal,
  getCoordinator,
  Leader,
  WithLock,
} from '../../lib/index.js';
import { createApp, deferred, memoryUrl, RecordingLogger, sleep, waitFor } from './support.js';

const apps: TestingModule[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(options: CoordinationModuleOptions, providers: unknown[] = [], logger = new RecordingLogger()) {
  const app = await createApp([CoordinationModule.forRoot(options)], providers as never, logger);
  apps.push(app);
  return app;
}

function forget(app: TestingModule) {
  apps.splice(apps.indexOf(app), 1);
}

describe('the heart', () => {
  it('registers heartbeat and watchers as named intervals in SchedulerRegistry, and removes them at close', async () => {
    const app = await start({ url: memoryUrl(), watchers: { intervalMs: 50 } });
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

  it('calls the public heartbeat() and runWatchers() at each tick, and nothing after close', async () => {
    // lock_timeout=0.2 → the driver asks for a beat every 100 ms.
    const app = await start({ url: memoryUrl('?lock_timeout=0.2'), watchers: { intervalMs: 50 } });
    const coordinator = app.get(Coordinator);
    const beats = vi.spyOn(coordinator, 'heartbeat');
    const watches = vi.spyOn(coordinator, 'runWatchers');
    await sleep(560);
    expect(beats.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(beats.mock.calls.length).toBeLessThanOrEqual(6);
    expect(watches.mock.calls.length).toBeGreaterThanOrEqual(8);
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
    const app = await start({ url: memoryUrl('?lock_timeout=1'), heartbeat: { intervalMs: 700 } }, [], logger);
    const beats = vi.spyOn(app.get(Coordinator), 'heartbeat');
    await sleep(800);
    expect(beats).toHaveBeenCalledTimes(1);
    expect(logger.messages('warn').join('\n')).toMatch(
      /heartbeat\.intervalMs is 700 ms, but the driver needs a beat every 500 ms/,
    );
  });

  it('does not beat with heartbeat.enabled: false', async () => {
    const app = await start({ url: memoryUrl(), heartbeat: { enabled: false } });
    const registry = app.get(SchedulerRegistry);
    expect(registry.doesExist('interval', COORDINATION_HEARTBEAT_JOB)).toBe(false);
    expect(registry.doesExist('interval', COORDINATION_WATCHERS_JOB)).toBe(true);
  });

  it('logs a failing beat or watcher run through Nest’s Logger and retries at the next tick', async () => {
    const logger = new RecordingLogger();
    const app = await start(
      { url: memoryUrl('?lock_timeout=0.1'), memberId: 'flaky', watchers: { intervalMs: 30 } },
      [],
      logger,
    );
    const coordinator = app.get(Coordinator);
    const beats = vi.spyOn(coordinator, 'heartbeat').mockRejectedValueOnce(new Error('backend down'));
    const watches = vi.spyOn(coordinator, 'runWatchers').mockRejectedValueOnce(new Error('watch broke'));
    await waitFor(() => beats.mock.calls.length >= 3 && watches.mock.calls.length >= 3);
    const errors = logger.messages('error').join('\n');
    expect(errors).toMatch(/Heartbeat of member flaky failed, retrying at the next tick: backend down/);
    expect(errors).toMatch(/Running the watchers of member flaky failed, retrying at the next tick: watch broke/);
    expect(coordinator.isStarted).toBe(true);
  });

  it('starts the coordinator before other providers bootstrap, and stops it after they shut down', async () => {
    const seen: string[] = [];
    @Injectable()
    class Consumer implements OnApplicationBootstrap, OnApplicationShutdown {
      constructor(private readonly coordinator: Coordinator) {}
      onApplicationBootstrap() {
        seen.push(`bootstrap started=${this.coordinator.isStarted} leads=${this.coordinator.isLeaderOf('g')}`);
      }
      onApplicationShutdown() {
        seen.push(`shutdown started=${this.coordinator.isStarted}`);
      }
      @Leader('g')
      lead() {}
    }
    const app = await start({ url: memoryUrl() }, [Consumer]);
    await app.close();
    forget(app);
    expect(seen).toEqual(['bootstrap started=true leads=true', 'shutdown started=true']);
  });
});

describe('shutdown', () => {
  @Injectable()
  class Worker {
    gate = deferred();
    signal: AbortSignal | undefined;
    @WithLock('work')
    async run() {
      this.signal = currentLockSignal();
      await this.gate.promise;
      return 'done';
    }
  }

  it('waits for a running guarded call, keeping its lock, then releases, stands down, leaves and stops', async () => {
    const url = memoryUrl('?lock_timeout=0.3');
    const app = await start({ url, memberId: 'closing', groups: [{ groupId: 'crew' }] }, [Worker]);
    const observer = getCoordinator(url, 'observer');
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
      expect(await observer.getLock('work').acquire({ blocking: false })).toBe(false);
      expect(await observer.getMembers('crew')).toEqual(new Set(['closing']));
      worker.gate.resolve();
      expect(await call).toBe('done');
      await closing;
      expect(worker.signal!.aborted).toBe(false);
      expect(await observer.getMembers('crew')).toEqual(new Set());
      const lock = observer.getLock('work');
      expect(await lock.acquire({ blocking: false })).toBe(true);
      await lock.release();
    } finally {
      await observer.stop();
    }
  });

  it('stops waiting after shutdown.timeoutMs: aborts the call’s lock signal and releases its lock', async () => {
    const url = memoryUrl();
    const logger = new RecordingLogger();
    const app = await start({ url, shutdown: { timeoutMs: 100 } }, [Worker], logger);
    const worker = app.get(Worker);
    void worker.run();
    await waitFor(() => worker.signal !== undefined);
    await app.close();
    forget(app);
    expect(worker.signal!.aborted).toBe(true);
    expect(logger.messages('warn').join('\n')).toMatch(
      /1 @Leader\/@WithLock call\(s\) still running 100 ms after shutdown began/,
    );
    const observer = getCoordinator(url, 'observer');
    await observer.start();
    expect(await observer.getLock('work').acquire({ blocking: false })).toBe(true);
    await observer.stop();
    worker.gate.resolve();
  });
});
