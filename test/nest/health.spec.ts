import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import type { TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CoordinationHealthIndicator } from '../../lib/nest/health/index.js';
import { CoordinationModule, Coordinator, Leader } from '../../lib/index.js';
import { drivers, type TestBackend, testBackend } from '../support/drivers.js';
import { failing, failingDrivers } from '../support/failing-driver.js';
import { compileApp, createApp } from './support.js';

/** A provider leading `groupId`. */
function leaderJob(groupId: string) {
  class Job {
    @Leader(groupId)
    run() {}
  }
  return Job;
}

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly coordination: CoordinationHealthIndicator,
  ) {}
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.coordination.isHealthy('coordination', { timeoutMs: 100 })]);
  }
}

const apps: TestingModule[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** Member `healthy`, joined to `crew` and leading `ops` (each a name unique to the test). */
async function healthApp(backend: TestBackend, init = true, shutdownTimeoutMs?: number) {
  const imports = [
    CoordinationModule.forRoot({
      url: backend.url(),
      memberId: backend.name('healthy'),
      groups: [{ groupId: backend.name('crew') }],
      ...(shutdownTimeoutMs === undefined ? {} : { shutdown: { timeoutMs: shutdownTimeoutMs } }),
    }),
    TerminusModule,
  ];
  const providers = [CoordinationHealthIndicator, leaderJob(backend.name('ops')), HealthController];
  const app = init ? await createApp(imports, providers) : await compileApp(imports, providers);
  apps.push(app);
  return app;
}

describe.each(drivers)('CoordinationHealthIndicator on $name', (driver) => {
  it('is up when started and the backend answers, naming the groups joined and led', async () => {
    const backend = testBackend(driver);
    const app = await healthApp(backend);
    const result = await app.get(CoordinationHealthIndicator).isHealthy();
    expect(result).toEqual({
      coordination: {
        status: 'up',
        memberId: backend.name('healthy'),
        started: true,
        reachable: true,
        groups: [backend.name('crew'), backend.name('ops')].sort(),
        leading: [backend.name('ops')],
      },
    });
    await expect(app.get(HealthController).check()).resolves.toMatchObject({ status: 'ok' });
  });

  it('is down when the coordinator is not started', async () => {
    const app = await healthApp(testBackend(driver), false);
    const result = await app.get(CoordinationHealthIndicator).isHealthy('coord');
    expect(result.coord).toMatchObject({
      status: 'down',
      started: false,
      reachable: false,
      message: 'coordinator is not started',
    });
  });
});

// On each driver behind a FaultyBackend (failing://, failing+redis://) told to stop answering.
describe.each(failingDrivers)(
  'CoordinationHealthIndicator on $name when the backend stops answering',
  (failingDriver) => {
    it('is down when the backend does not answer its ping in time', async () => {
      // The hung ping is still in flight at close: stop() waits shutdown.timeoutMs for it, then disconnects.
      const app = await healthApp(testBackend(failingDriver), true, 200);
      failing(app.get(Coordinator)).hang('ping');
      const result = await app.get(CoordinationHealthIndicator).isHealthy('coordination', { timeoutMs: 50 });
      expect(result.coordination).toMatchObject({
        status: 'down',
        started: true,
        reachable: false,
        message: expect.stringMatching(/backend unreachable: ping did not finish within 50 ms/),
      });
      await expect(app.get(HealthController).check()).rejects.toThrow();
    });

    it('makes one cheap round trip: a ping, never a listing of groups or members', async () => {
      const backend = testBackend(failingDriver);
      const app = await healthApp(backend);
      const faults = failing(app.get(Coordinator));
      const before = {
        ping: faults.calls('ping'),
        groups: faults.calls('getGroups'),
        members: faults.calls('getMembers'),
      };
      const result = await app.get(CoordinationHealthIndicator).isHealthy();
      expect(result.coordination).toMatchObject({ status: 'up', leading: [backend.name('ops')] });
      expect(faults.calls('ping') - before.ping).toBe(1);
      expect(faults.calls('getGroups') - before.groups).toBe(0);
      expect(faults.calls('getMembers') - before.members).toBe(0);
    });
  },
);
