import { Injectable } from '@nestjs/common';
import { Interval, ScheduleModule } from '@nestjs/schedule';
import type { TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Characteristic,
  CoordinationError,
  CoordinationModule,
  Coordinator,
  currentLock,
  currentLockSignal,
  getCoordinator,
  Leader,
  LockAcquireFailedError,
  LockLost,
  WithLock,
} from '../../lib/index.js';
import { drivers, testBackend } from '../support/drivers.js';
import { createApp, deferred, RecordingLogger, sleep, waitFor } from './support.js';

/** The guarded service, on lock `ledger` and locks `account:<account>` (names unique to the test). */
function ledgerClass(name: (prefix: string) => string) {
  @Injectable()
  class Ledger {
    entered = 0;
    gate = deferred();
    signals: (AbortSignal | undefined)[] = [];
    tokens: (bigint | null | undefined)[] = [];

    @WithLock(name('ledger'))
    async settle(value: string) {
      this.entered++;
      this.signals.push(currentLockSignal());
      this.tokens.push(currentLock()?.fencingToken);
      await this.gate.promise;
      return `settled ${value}`;
    }

    @WithLock(name('ledger'), { blocking: false, onLocked: 'skip' })
    async trySkip() {
      this.entered++;
      return 'ran';
    }

    @WithLock(name('ledger'), { blocking: false })
    async tryThrow() {
      this.entered++;
      return 'ran';
    }

    @WithLock(name('ledger'), { timeoutMs: 150 })
    async withTimeout() {
      this.entered++;
      return 'ran';
    }

    @WithLock(name('ledger'), { timeoutMs: 150, onLocked: 'skip' })
    async withTimeoutSkip() {
      this.entered++;
      return 'ran';
    }

    @WithLock(name('ledger'))
    async explode() {
      throw new Error('settlement failed');
    }

    @WithLock((account: string) => name(`account:${account}`))
    async perAccount(account: string, ms: number) {
      await sleep(ms);
      return currentLock()?.name;
    }

    @WithLock(name('ledger'))
    async long(ms: number) {
      const signal = currentLockSignal()!;
      await sleep(ms);
      return signal.aborted;
    }

    @WithLock(name('ledger'), { shared: true })
    async read(gate: Promise<void>) {
      await gate;
      return 'read';
    }
  }
  return Ledger;
}

const apps: TestingModule[] = [];
const outsiders: Coordinator[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(outsiders.splice(0).map((c) => (c.isStarted ? c.stop() : undefined)));
});

describe.each(drivers)('@WithLock() on $name', (driver) => {
  /** A started app holding the Ledger, and a started outsider, on this test's backend with `query`. */
  async function setup(query: Record<string, string | number> = {}, logger = new RecordingLogger()) {
    const { url, name } = testBackend(driver);
    const Ledger = ledgerClass(name);
    const app = await createApp(
      [CoordinationModule.forRoot({ url: url(query), memberId: name('app'), watchers: { intervalMs: 50 } })],
      [Ledger],
      logger,
    );
    apps.push(app);
    const outsider = getCoordinator(url(query), name('outsider'));
    await outsider.start({ startHeart: true });
    outsiders.push(outsider);
    return { app, ledger: app.get(Ledger), coordinator: app.get(Coordinator), outsider, name, LEDGER: name('ledger') };
  }

  it('holds the lock for the whole call and releases it on return', async () => {
    const { ledger, outsider, LEDGER } = await setup();
    const call = ledger.settle('a');
    await waitFor(() => ledger.entered === 1);
    const probe = outsider.getLock(LEDGER);
    expect(await probe.acquire({ blocking: false })).toBe(false);
    ledger.gate.resolve();
    expect(await call).toBe('settled a');
    expect(await probe.acquire({ blocking: false })).toBe(true);
    await probe.release();
  });

  it('gives the call its lock signal and lock; nothing outside a call', async () => {
    const { ledger } = await setup();
    ledger.gate.resolve();
    await ledger.settle('b');
    expect(ledger.signals[0]).toBeInstanceOf(AbortSignal);
    expect(ledger.signals[0]!.aborted).toBe(false);
    expect(typeof ledger.tokens[0]).toBe('bigint');
    expect(currentLockSignal()).toBeUndefined();
    expect(currentLock()).toBeUndefined();
  });

  it("onLocked: 'skip' resolves undefined without running", async () => {
    const { ledger, outsider, LEDGER } = await setup();
    const held = outsider.getLock(LEDGER);
    await held.acquire();
    expect(await ledger.trySkip()).toBeUndefined();
    expect(ledger.entered).toBe(0);
    await held.release();
    expect(await ledger.trySkip()).toBe('ran');
  });

  it("onLocked: 'throw' (the default) raises LockAcquireFailedError", async () => {
    const { ledger, outsider, LEDGER } = await setup();
    const held = outsider.getLock(LEDGER);
    await held.acquire();
    const failure = ledger.tryThrow();
    await expect(failure).rejects.toBeInstanceOf(LockAcquireFailedError);
    await expect(failure).rejects.toMatchObject({ lockName: LEDGER });
    expect(ledger.entered).toBe(0);
    await held.release();
  });

  it('blocks by default until the holder releases', async () => {
    const { ledger, outsider, LEDGER } = await setup();
    const held = outsider.getLock(LEDGER);
    await held.acquire();
    ledger.gate.resolve();
    let done = false;
    const call = ledger.settle('waited').then((result) => ((done = true), result));
    await sleep(150);
    expect(done).toBe(false);
    expect(ledger.entered).toBe(0);
    await held.release();
    expect(await call).toBe('settled waited');
  });

  it('gives up after timeoutMs, throwing or skipping', async () => {
    const { ledger, outsider, LEDGER } = await setup();
    const held = outsider.getLock(LEDGER);
    await held.acquire();
    const started = Date.now();
    await expect(ledger.withTimeout()).rejects.toBeInstanceOf(LockAcquireFailedError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(await ledger.withTimeoutSkip()).toBeUndefined();
    expect(ledger.entered).toBe(0);
    await held.release();
  });

  it('releases the lock when the method throws', async () => {
    const { ledger, outsider, LEDGER } = await setup();
    await expect(ledger.explode()).rejects.toThrow('settlement failed');
    const probe = outsider.getLock(LEDGER);
    expect(await probe.acquire({ blocking: false })).toBe(true);
    await probe.release();
  });

  it('names the lock from the arguments; concurrent calls in one application exclude each other', async () => {
    const { ledger, name } = await setup();
    const started = Date.now();
    const results = await Promise.all([
      ledger.perAccount('acme', 100),
      ledger.perAccount('acme', 100),
      ledger.perAccount('other', 100),
    ]);
    expect(results).toEqual([name('account:acme'), name('account:acme'), name('account:other')]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(400);
  });

  it('shared holds run together', async () => {
    const { ledger, outsider, LEDGER } = await setup();
    const gate = deferred();
    const reads = [ledger.read(gate.promise), ledger.read(gate.promise)];
    await sleep(50);
    expect(await outsider.getLock(LEDGER).acquire({ blocking: false, shared: true })).toBe(true);
    gate.resolve();
    expect(await Promise.all(reads)).toEqual(['read', 'read']);
  });

  it('is kept alive by the heart past lock_timeout (a 2.5 s call with lock_timeout=1)', async () => {
    const { ledger, coordinator, outsider, LEDGER } = await setup({ lock_timeout: 1 });
    const lost: LockLost[] = [];
    coordinator.events$.subscribe((event) => event instanceof LockLost && lost.push(event));
    const call = ledger.long(2500);
    // Probe past one, and past two, lock timeouts since the acquire.
    for (const waitMs of [1200, 900]) {
      await sleep(waitMs);
      expect(await outsider.getLock(LEDGER).acquire({ blocking: false })).toBe(false);
    }
    expect(await call).toBe(false); // the call's signal never aborted
    expect(lost).toEqual([]);
    const probe = outsider.getLock(LEDGER);
    expect(await probe.acquire({ blocking: false })).toBe(true);
    await probe.release();
  }, 10_000);

  // Locks that end only with the session (NON_TIMEOUT_BASED, docs/drivers.md's table) are not lost for want of a beat.
  it.skipIf(driver.characteristics.includes(Characteristic.NonTimeoutBased))(
    'without the heart the same call loses its lock (control)',
    async () => {
      const { url, name } = testBackend(driver);
      const Ledger = ledgerClass(name);
      const app = await createApp(
        [CoordinationModule.forRoot({ url: url({ lock_timeout: 1 }), heartbeat: { enabled: false } })],
        [Ledger],
      );
      apps.push(app);
      expect(await app.get(Ledger).long(1500)).toBe(true); // the call's signal aborted
    },
  );

  it('a call from a constructor, before the application owns the instance, rejects: the coordinator is not started', async () => {
    const { url, name } = testBackend(driver);
    let early: Promise<unknown> | undefined;
    @Injectable()
    class EagerLedger {
      runs = 0;
      constructor() {
        early = this.settle().catch((error: unknown) => error);
      }
      @WithLock(name('ledger'))
      async settle() {
        this.runs++;
        return 'settled';
      }
    }
    const app = await createApp([CoordinationModule.forRoot({ url: url() })], [EagerLedger]);
    apps.push(app);
    const error = await early;
    expect(error).toBeInstanceOf(CoordinationError);
    expect(String(error)).toMatch(/@WithLock\(\) on EagerLedger\.settle: the coordinator is not started/);
    expect(app.get(EagerLedger).runs).toBe(0);
    expect(await app.get(EagerLedger).settle()).toBe('settled');
  });

  it('a call after close rejects: the coordinator is not started', async () => {
    const { app, ledger } = await setup();
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    await expect(ledger.trySkip()).rejects.toThrow(/@WithLock\(\) on Ledger\.trySkip: the coordinator is not started/);
    expect(ledger.entered).toBe(0);
  });

  it('aborts the call signal and reports LockLost when the hold is lost mid-call', async () => {
    const logger = new RecordingLogger();
    const { ledger, coordinator, outsider, LEDGER } = await setup({ lock_timeout: 1 }, logger);
    const lost: LockLost[] = [];
    coordinator.events$.subscribe((event) => event instanceof LockLost && lost.push(event));
    const call = ledger.settle('doomed');
    await waitFor(() => ledger.entered === 1);
    const signal = ledger.signals[0]!;
    expect(await outsider.getLock(LEDGER).break()).toBe(true);
    await waitFor(() => signal.aborted, 2000, 'the lock signal to abort');
    expect(lost.map((event) => event.name)).toEqual([LEDGER]);
    expect(logger.messages('warn').some((m) => m.includes(`lost its hold on lock ${LEDGER}`))).toBe(true);
    ledger.gate.resolve();
    expect(await call).toBe('settled doomed');
  });
});

describe.each(drivers)('@WithLock() stacked with @Interval() and @Leader() on $name', (driver) => {
  /** The interval jobs, on locks `tick-lock` and `leader-lock` and group `ops` (names unique to the test). */
  function tickJobs(name: (prefix: string) => string) {
    @Injectable()
    class LockedInterval {
      runs = 0;
      held: boolean[] = [];
      @WithLock(name('tick-lock'), { blocking: false, onLocked: 'skip' })
      @Interval(20)
      async tick() {
        this.runs++;
        this.held.push(currentLock()?.isHeld ?? false);
      }
    }

    @Injectable()
    class IntervalLocked {
      runs = 0;
      held: boolean[] = [];
      @Interval(20)
      @WithLock(name('tick-lock'), { blocking: false, onLocked: 'skip' })
      async tick() {
        this.runs++;
        this.held.push(currentLock()?.isHeld ?? false);
      }
    }

    @Injectable()
    class LeaderLockedInterval {
      runs = 0;
      @Interval(20)
      @WithLock(name('leader-lock'))
      @Leader(name('ops'))
      async tick() {
        this.runs++;
      }
    }

    return { LockedInterval, IntervalLocked, LeaderLockedInterval };
  }

  it.each([
    ['@WithLock over @Interval', 'LockedInterval'],
    ['@Interval over @WithLock', 'IntervalLocked'],
  ] as const)('%s: each run holds the lock, and is skipped while someone else does', async (_, jobClass) => {
    const { url, name } = testBackend(driver);
    const Job = tickJobs(name)[jobClass];
    const app = await createApp(
      [ScheduleModule.forRoot(), CoordinationModule.forRoot({ url: url(), watchers: { intervalMs: 50 } })],
      [Job],
    );
    apps.push(app);
    const job = app.get(Job);
    await waitFor(() => job.runs > 2);
    expect(job.held.every(Boolean)).toBe(true);
    const outsider = getCoordinator(url(), name('outsider'));
    await outsider.start();
    outsiders.push(outsider);
    const lock = outsider.getLock(name('tick-lock'));
    await waitFor(() => lock.acquire({ blocking: false }));
    const before = job.runs;
    await sleep(120);
    expect(job.runs).toBe(before);
    await lock.release();
    await waitFor(() => job.runs > before);
  });

  it('@Leader + @WithLock + @Interval: only the leader runs, under the lock', async () => {
    const { url, name } = testBackend(driver);
    const { LeaderLockedInterval } = tickJobs(name);
    const first = await createApp(
      [CoordinationModule.forRoot({ url: url(), watchers: { intervalMs: 50 } }), ScheduleModule.forRoot()],
      [LeaderLockedInterval],
    );
    const second = await createApp(
      [ScheduleModule.forRoot(), CoordinationModule.forRoot({ url: url(), watchers: { intervalMs: 50 } })],
      [LeaderLockedInterval],
    );
    apps.push(first, second);
    await sleep(200);
    expect(first.get(LeaderLockedInterval).runs).toBeGreaterThan(2);
    expect(second.get(LeaderLockedInterval).runs).toBe(0);
  });
});
