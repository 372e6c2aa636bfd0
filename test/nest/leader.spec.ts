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
import { createApp, memoryUrl, sleep, waitFor } from './support.js';

const GROUP = 'reports';

@Injectable()
class ReportJob {
  runs = 0;
  @Leader(GROUP)
  async report(label: string) {
    this.runs++;
    return `report ${label}`;
  }
  @Leader(GROUP)
  sync() {
    return 42;
  }
  @Leader(GROUP)
  fail() {
    throw new Error('report failed');
  }
}

/** @Leader written above @Interval: applied last. */
@Injectable()
class LeaderOverInterval {
  runs = 0;
  @Leader(GROUP)
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
  @Leader(GROUP)
  tick() {
    this.runs++;
  }
}

@Injectable()
class LeaderTimeouts {
  over = 0;
  under = 0;
  @Leader(GROUP)
  @Timeout(30)
  first() {
    this.over++;
  }
  @Timeout(30)
  @Leader(GROUP)
  second() {
    this.under++;
  }
}

@Injectable()
class LeaderCron {
  runs = 0;
  @Leader(GROUP)
  @Cron('* * * * * *', { name: 'leader-cron' })
  everySecond() {
    this.runs++;
  }
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
  return createApp(
    [CoordinationModule.forRoot({ url, memberId, watchers: { intervalMs: 50 }, ...options })],
    providers as never,
  ).then((app) => {
    apps.push(app);
    return app;
  });
}

describe('@Leader()', () => {
  it('a lone instance leads right after bootstrap and runs the method', async () => {
    const app = await member(memoryUrl(), 'solo', [ReportJob]);
    const job = app.get(ReportJob);
    expect(app.get(Coordinator).isLeaderOf(GROUP)).toBe(true);
    expect(await job.report('a')).toBe('report a');
    await expect(job.sync()).resolves.toBe(42);
    await expect(job.fail()).rejects.toThrow('report failed');
    expect(job.runs).toBe(1);
    // The module joined the group it runs for.
    expect(await app.get(Coordinator).getMembers(GROUP)).toEqual(new Set(['solo']));
  });

  it('two applications on one backend: only the leader runs it, the other takes over when the leader closes', async () => {
    const url = memoryUrl();
    const first = await member(url, 'first', [ReportJob]);
    const second = await member(url, 'second', [ReportJob]);
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
    expect(elected.map((e) => e.memberId)).toEqual(['second']);
  });

  it('a method called after close resolves to undefined without running', async () => {
    const app = await member(memoryUrl(), 'm', [ReportJob]);
    const job = app.get(ReportJob);
    await app.close();
    apps.splice(0);
    expect(await job.report('late')).toBeUndefined();
    expect(job.runs).toBe(0);
  });

  it('a call from a constructor, before any application owns the instance, resolves to undefined without running', async () => {
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
    const app = await member(memoryUrl(), 'eager', [EagerJob]);
    expect(await early).toBeUndefined();
    expect(app.get(EagerJob).runs).toBe(0);
    // Once bootstrapped, the same instance leads.
    expect(await app.get(EagerJob).report()).toBe('ran');
  });

  it('an instance made with new, outside any application, leads nothing', async () => {
    const job = new ReportJob();
    expect(await job.report('outside Nest')).toBeUndefined();
    expect(job.runs).toBe(0);
  });

  it.each([
    ['@Leader over @Interval', LeaderOverInterval],
    ['@Interval over @Leader', IntervalOverLeader],
  ])('%s: only the leader application runs the interval, and the follower takes over', async (_, Job) => {
    const url = memoryUrl();
    const first = await member(url, 'first', [Job]);
    const second = await member(url, 'second', [Job]);
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
    const url = memoryUrl();
    const first = await member(url, 'first', [LeaderTimeouts]);
    const second = await member(url, 'second', [LeaderTimeouts]);
    await sleep(150);
    expect([first.get(LeaderTimeouts).over, first.get(LeaderTimeouts).under]).toEqual([1, 1]);
    expect([second.get(LeaderTimeouts).over, second.get(LeaderTimeouts).under]).toEqual([0, 0]);
  });

  it('stacks with @Cron', async () => {
    const url = memoryUrl();
    const first = await member(url, 'first', [LeaderCron]);
    const second = await member(url, 'second', [LeaderCron]);
    expect(first.get(SchedulerRegistry).getCronJob('leader-cron')).toBeDefined();
    await waitFor(() => first.get(LeaderCron).runs > 0, 2500, 'the cron to fire');
    await sleep(50);
    expect(second.get(LeaderCron).runs).toBe(0);
  });

  it('guards @Interval methods even when the application imports ScheduleModule itself, before CoordinationModule', async () => {
    const url = memoryUrl();
    const app = (memberId: string) =>
      createApp(
        [
          ScheduleModule.forRoot(),
          CoordinationModule.forRoot({ url, memberId, watchers: { intervalMs: 50 }, importScheduleModule: false }),
        ],
        [IntervalOverLeader],
      ).then((created) => (apps.push(created), created));
    const first = await app('first');
    const second = await app('second');
    await sleep(200);
    expect(first.get(IntervalOverLeader).runs).toBeGreaterThan(2);
    expect(second.get(IntervalOverLeader).runs).toBe(0);
  });

  it('guards @Interval methods when CoordinationModule is not global and imported by a feature module', async () => {
    const url = memoryUrl();
    const app = (memberId: string) => {
      @Module({
        imports: [CoordinationModule.forRoot({ url, memberId, watchers: { intervalMs: 50 }, isGlobal: false })],
        providers: [LeaderOverInterval],
      })
      class FeatureModule {}
      return createApp([FeatureModule]).then((created) => (apps.push(created), created));
    };
    const first = await app('first');
    const second = await app('second');
    await sleep(200);
    expect(first.get(LeaderOverInterval).runs).toBeGreaterThan(2);
    expect(second.get(LeaderOverInterval).runs).toBe(0);
  });

  it('a member outside Nest can see who leads', async () => {
    const url = memoryUrl();
    await member(url, 'nest-leader', [ReportJob]);
    const outsider = getCoordinator(url, 'outsider');
    await outsider.start();
    expect(await outsider.getLeader(GROUP)).toBe('nest-leader');
    await outsider.stop();
  });
});
