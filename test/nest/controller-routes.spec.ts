import { Controller, Get, type INestApplication, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CoordinationModule, getCoordinator, Leader, WithLock } from '../../lib/index.js';
import { drivers, type TestBackend, testBackend } from '../support/drivers.js';
import { RecordingLogger } from './support.js';

/** The controller, with its @Leader() routes on `group` and its @WithLock() route on `lockName`. */
function jobsController(group: string, lockName: string) {
  @Controller('jobs')
  class JobsController {
    leaderRuns = 0;
    lockedRuns = 0;

    /** @Get above @Leader: the route metadata lands on the guarded method. */
    @Get('lead')
    @Leader(group)
    async lead() {
      this.leaderRuns++;
      return { ran: true };
    }

    /** @Leader above @Get: the route metadata of the original method is copied to the guarded one. */
    @Leader(group)
    @Get('lead/:label')
    async leadWith(@Param('label') label: string) {
      this.leaderRuns++;
      return { ran: label };
    }

    @Get('locked')
    @WithLock(lockName, { blocking: false, onLocked: 'skip' })
    async locked() {
      this.lockedRuns++;
      return { ran: true };
    }
  }
  return JobsController;
}

const apps: INestApplication[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function httpApp(backend: TestBackend, memberId: string) {
  const JobsController = jobsController(backend.name('reports'), backend.name('report-lock'));
  const moduleRef = await Test.createTestingModule({
    imports: [CoordinationModule.forRoot({ url: backend.url(), memberId, watchers: { intervalMs: 50 } })],
    controllers: [JobsController],
  })
    .setLogger(new RecordingLogger())
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    const text = await response.text();
    return { status: response.status, text };
  };
  return { app, controller: app.get(JobsController), get };
}

describe.each(drivers)('@Leader()/@WithLock() on controller routes reached over HTTP on $name', (driver) => {
  it('the leader runs a @Leader() route; a follower answers without running it, in either decorator order', async () => {
    const backend = testBackend(driver);
    const leader = await httpApp(backend, backend.name('leader'));
    const follower = await httpApp(backend, backend.name('follower'));

    expect(await leader.get('/jobs/lead')).toEqual({ status: 200, text: '{"ran":true}' });
    expect(await leader.get('/jobs/lead/x')).toEqual({ status: 200, text: '{"ran":"x"}' });
    expect(leader.controller.leaderRuns).toBe(2);

    // The method resolves undefined on a follower, which Nest sends as an empty 200.
    expect(await follower.get('/jobs/lead')).toEqual({ status: 200, text: '' });
    expect(await follower.get('/jobs/lead/x')).toEqual({ status: 200, text: '' });
    expect(follower.controller.leaderRuns).toBe(0);
  });

  it('a @WithLock() route runs under the lock, and skips while another member holds it', async () => {
    const backend = testBackend(driver);
    const web = await httpApp(backend, backend.name('web'));
    const holder = getCoordinator(backend.url(), backend.name('holder'));
    await holder.start();
    const lock = holder.getLock(backend.name('report-lock'));
    try {
      expect(await lock.acquire()).toBe(true);
      expect(await web.get('/jobs/locked')).toEqual({ status: 200, text: '' });
      expect(web.controller.lockedRuns).toBe(0);

      await lock.release();
      expect(await web.get('/jobs/locked')).toEqual({ status: 200, text: '{"ran":true}' });
      expect(web.controller.lockedRuns).toBe(1);
    } finally {
      await holder.stop();
    }
  });
});
