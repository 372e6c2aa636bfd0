import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import type { TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CoordinationHealthIndicator } from '../../lib/nest/health/index.js';
import { CoordinationModule, Coordinator, Leader } from '../../lib/index.js';
import { compileApp, createApp, memoryUrl } from './support.js';

class Job {
  @Leader('ops')
  run() {}
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
  vi.restoreAllMocks();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function healthApp(init = true) {
  const imports = [
    CoordinationModule.forRoot({ url: memoryUrl(), memberId: 'healthy', groups: [{ groupId: 'crew' }] }),
    TerminusModule,
  ];
  const providers = [CoordinationHealthIndicator, Job, HealthController];
  const app = init ? await createApp(imports, providers) : await compileApp(imports, providers);
  apps.push(app);
  return app;
}

describe('CoordinationHealthIndicator', () => {
  it('is up when started and the backend answers, naming the groups joined and led', async () => {
    const app = await healthApp();
    const result = await app.get(CoordinationHealthIndicator).isHealthy();
    expect(result).toEqual({
      coordination: {
        status: 'up',
        memberId: 'healthy',
        started: true,
        reachable: true,
        groups: ['crew', 'ops'],
        leading: ['ops'],
      },
    });
    await expect(app.get(HealthController).check()).resolves.toMatchObject({ status: 'ok' });
  });

  it('is down when the coordinator is not started', async () => {
    const app = await healthApp(false);
    const result = await app.get(CoordinationHealthIndicator).isHealthy('coord');
    expect(result.coord).toMatchObject({
      status: 'down',
      started: false,
      reachable: false,
      message: 'coordinator is not started',
    });
  });

  it('is down when the backend does not answer in time', async () => {
    const app = await healthApp();
    vi.spyOn(app.get(Coordinator), 'getGroups').mockReturnValue(new Promise(() => undefined));
    const result = await app.get(CoordinationHealthIndicator).isHealthy('coordination', { timeoutMs: 50 });
    expect(result.coordination).toMatchObject({
      status: 'down',
      started: true,
      reachable: false,
      message: expect.stringMatching(/backend unreachable: getGroups did not finish within 50 ms/),
    });
    await expect(app.get(HealthController).check()).rejects.toThrow();
  });
});
