import { Injectable, Module } from '@nestjs/common';
import { Cron, Interval, ScheduleModule, SchedulerRegistry, Timeout } from '@nestjs/schedule';
import type { TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CoordinationModule,
  type CoordinationModuleExtras,
  type CoordinationModuleOptions,
  Coordinator,
  getCoordinator,
  Leader,
  LeaderElected,
} from '../../lib/index.js';
import { drivers, testBackend } from '../support/drivers.js';
import { createApp, sleep, waitFor } from './support.js';

/** The jobs, each guarded by @Leader(group). */
function leaderJobs(group: string) {
  @Injectable()
  class ReportJob {
    runs = 0;
    @Leader(group)
    async report(label: string) {
      this.runs++;
      return `report ${label}`;
    }
    @Leader(group)
    sync() {
      return 42;
    }
    @Leader(group)
    fail() {
      throw new Error('report failed');
    }
  }

  /** @Leader written above @Interval: applied last. */
  @Injectable()
  class LeaderOverInterval {
    runs = 0;
    @Leader(group)
    @Interval(20)
    tick() {
      this.runs++;
    }
  }

  /** @Interval written above @Leader: applied last. */
  @Injectable()
  class IntervalOverLeader {
    runs = 0;
    @Interval(20)
    @Leader(group)
    tick() {
      this.runs++;
    }
  }

  @Injectable()
  class LeaderTimeouts {
    over = 0;
    under = 0;
    @Leader(group)
    @Timeout(30)
    first() {
      this.over++;
    }
    @Timeout(30)
    @Leader(group)
    second() {
      this.under++;
    }
  }

  @Injectable()
  class LeaderCron {
    runs = 0;
    @Leader(group)
    @Cron('* * * * * *', { name: 'leader-cron' })
    everySecond() {
      this.runs++;
    }
  }

  return { ReportJob, LeaderOverInterval, IntervalOverLeader, LeaderTimeouts, LeaderCron };
}

const apps: TestingModule[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

function member(
  url: string,
  memberId: string,
  providers: unknown[],
  options: CoordinationModuleOptions & CoordinationModuleExtras = {},
) {
  // The application schedules its own jobs; CoordinationModule uses that ScheduleModule and imports none.
  return createApp(
    [CoordinationModule.forRoot({ url, memberId, watchers: { intervalMs: 50 }, ...options }), ScheduleModule.forRoot()],
    providers as never,
  ).then((app) => {
    apps.push(app);
    return app;
  });
}

describe.each(drivers)('@Leader() on $name', (driver) => {
  /** This test's backend, and its jobs guarded by @Leader() of a group unique to the test. */
  function setup() {
    const backend = testBackend(driver);
    return { ...backend, GROUP: backend.name('reports'), ...leaderJobs(backend.name('reports')) };
  }

  it('a lone instance leads right after bootstrap and runs the method', async () => {
    const { url, name, GROUP, ReportJob } = setup();
    const app = await member(url(), name('solo'), [ReportJob]);
    const job = app.get(ReportJob);
    expect(app.get(Coordinator).isLeaderOf(GROUP)).toBe(true);
    expect(await job.report('a')).toBe('report a');
    await expect(job.sync()).resolves.toBe(42);
    await expect(job.fail()).rejects.toThrow('report failed');
    expect(job.runs).toBe(1);
    // The module joined the group it runs for.
    expect(await app.get(Coordinator).getMembers(GROUP)).toEqual(new Set([name('solo')]));
  });

  it('two applications on one backend: only the leader runs it, the other takes over when the leader closes', async () => {
    const { url, name, GROUP, ReportJob } = setup();
    const first = await member(url(), name('first'), [ReportJob]);
    const second = await member(url(), name('second'), [ReportJob]);
    const [a, b] = [first.get(ReportJob), second.get(ReportJob)];
    expect(a).not.toBe(b);

    expect(await a.report('x')).toBe('report x');
    expect(await b.report('x')).toBeUndefined();
    await expect(b.sync()).resolves.toBeUndefined();
    expect([a.runs, b.runs]).toEqual([1, 0]);
    // One guarded method on the prototype; each call finds the coordinator of the app that owns `this`.
    expect(Object.hasOwn(a, 'report')).toBe(false);
    expect(a.report).toBe(b.report);

    const elected: LeaderElected[] = [];
    second.get(Coordinator).events$.subscribe((event) => event instanceof LeaderElected && elected.push(event));
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    await waitFor(() => second.get(Coordinator).isLeaderOf(GROUP), 2000, 'the second member to lead');
    expect(await b.report('y')).toBe('report y');
    expect(b.runs).toBe(1);
    expect(elected.map((e) => e.memberId)).toEqual([name('second')]);
  });

  it('a method called after close resolves to undefined without running', async () => {
    const { url, name, ReportJob } = setup();
    const app = await member(url(), name('m'), [ReportJob]);
    const job = app.get(ReportJob);
    await app.close();
    apps.splice(0);
    expect(await job.report('late')).toBeUndefined();
    expect(job.runs).toBe(0);
  });

  it('a call from a constructor, before any application owns the instance, resolves to undefined without running', async () => {
    const { url, name, GROUP } = setup();
    let early: Promise<unknown> | undefined;
    @Injectable()
    class EagerJob {
      runs = 0;
      constructor() {
        early = this.report();
      }
      @Leader(GROUP)
      async report() {
        this.runs++;
        return 'ran';
      }
    }
    const app = await member(url(), name('eager'), [EagerJob]);
    expect(await early).toBeUndefined();
    expect(app.get(EagerJob).runs).toBe(0);
    // Once bootstrapped, the same instance leads.
    expect(await app.get(EagerJob).report()).toBe('ran');
  });

  it.each([
    ['@Leader over @Interval', 'LeaderOverInterval'],
    ['@Interval over @Leader', 'IntervalOverLeader'],
  ] as const)('%s: only the leader application runs the interval, and the follower takes over', async (_, job) => {
    const { url, name, ...jobs } = setup();
    const Job = jobs[job];
    const first = await member(url(), name('first'), [Job]);
    const second = await member(url(), name('second'), [Job]);
    // @nestjs/schedule still found the interval on the guarded method (its metadata was copied).
    expect(first.get(SchedulerRegistry).getIntervals()).toHaveLength(3);
    await sleep(200);
    expect(first.get(Job).runs).toBeGreaterThan(2);
    expect(second.get(Job).runs).toBe(0);

    await first.close();
    apps.splice(apps.indexOf(first), 1);
    await waitFor(() => second.get(Job).runs > 2, 2000, 'the follower to run the interval');
  });

  it('stacks with @Timeout in either order', async () => {
    const { url, name, LeaderTimeouts } = setup();
    const first = await member(url(), name('first'), [LeaderTimeouts]);
    const second = await member(url(), name('second'), [LeaderTimeouts]);
    await sleep(150);
    expect([first.get(LeaderTimeouts).over, first.get(LeaderTimeouts).under]).toEqual([1, 1]);
    expect([second.get(LeaderTimeouts).over, second.get(LeaderTimeouts).under]).toEqual([0, 0]);
  });

  it('stacks with @Cron', async () => {
    const { url, name, LeaderCron } = setup();
    const first = await member(url(), name('first'), [LeaderCron]);
    const second = await member(url(), name('second'), [LeaderCron]);
    // @nestjs/schedule found the cron on the guarded method in both applications (its metadata was copied).
    const cron = (app: TestingModule) => app.get(SchedulerRegistry).getCronJobs().get('leader-cron');
    expect([cron(first)?.isActive, cron(second)?.isActive]).toEqual([true, true]);
    await waitFor(() => first.get(LeaderCron).runs > 0, 2500, 'the cron to fire');
    // The follower's cron fired too, and @Leader skipped the method.
    await waitFor(() => cron(second)?.lastDate() != null, 2500, "the follower's cron to fire");
    await sleep(50);
    expect(second.get(LeaderCron).runs).toBe(0);
  });

  it('guards @Interval methods when the application lists ScheduleModule before CoordinationModule', async () => {
    const { url, name, IntervalOverLeader } = setup();
    const app = (memberId: string) =>
      createApp(
        [ScheduleModule.forRoot(), CoordinationModule.forRoot({ url: url(), memberId, watchers: { intervalMs: 50 } })],
        [IntervalOverLeader],
      ).then((created) => (apps.push(created), created));
    const first = await app(name('first'));
    const second = await app(name('second'));
    await sleep(200);
    expect(first.get(IntervalOverLeader).runs).toBeGreaterThan(2);
    expect(second.get(IntervalOverLeader).runs).toBe(0);
  });

  it('guards @Interval methods when CoordinationModule is not global and imported by a feature module', async () => {
    const { url, name, LeaderOverInterval } = setup();
    const app = (memberId: string) => {
      @Module({
        imports: [
          CoordinationModule.forRoot({ url: url(), memberId, watchers: { intervalMs: 50 }, isGlobal: false }),
          ScheduleModule.forRoot(),
        ],
        providers: [LeaderOverInterval],
      })
      class FeatureModule {}
      return createApp([FeatureModule]).then((created) => (apps.push(created), created));
    };
    const first = await app(name('first'));
    const second = await app(name('second'));
    await sleep(200);
    expect(first.get(LeaderOverInterval).runs).toBeGreaterThan(2);
    expect(second.get(LeaderOverInterval).runs).toBe(0);
  });

  it('a member outside Nest can see who leads', async () => {
    const { url, name, GROUP, ReportJob } = setup();
    await member(url(), name('nest-leader'), [ReportJob]);
    const outsider = getCoordinator(url(), name('outsider'));
    await outsider.start();
    expect(await outsider.getLeader(GROUP)).toBe(name('nest-leader'));
    await outsider.stop();
  });
});

// Reaches no backend, so it runs once rather than per driver.
describe('@Leader() outside Nest', () => {
  it('an instance made with new, outside any application, leads nothing', async () => {
    const { ReportJob } = leaderJobs('reports');
    const job = new ReportJob();
    expect(await job.report('outside Nest')).toBeUndefined();
    expect(job.runs).toBe(0);
  });
});
