import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { CoordinationModule, type CoordinationModuleOptions } from '../../lib/index.js';

// A misspelt option would otherwise fall back to its default without a word:
// `urll: 'redis://…'` would boot every replica on its own memory:// backend.
const boot = async (options: Record<string, unknown>) => {
  const moduleRef = await Test.createTestingModule({
    imports: [CoordinationModule.forRoot(options as CoordinationModuleOptions)],
  }).compile();
  await moduleRef.close();
};

describe('CoordinationModule options with unknown keys', () => {
  it.each([
    ['urll', { urll: 'memory://x' }, /Unknown CoordinationModule option urll; the known ones are url, memberId/],
    ['hearbeat', { hearbeat: { enabled: true } }, /Unknown CoordinationModule option hearbeat;/],
    ['heartbeat.interval', { heartbeat: { interval: 5 } }, /option heartbeat\.interval; .*heartbeat\.intervalMs/],
    [
      'watchers.interval',
      { watchers: { interval: 5 } },
      /option watchers\.interval; the known ones are watchers\.intervalMs/,
    ],
    ['shutdown.timeout', { shutdown: { timeout: 5 } }, /option shutdown\.timeout;/],
    ['groups[0].capability', { groups: [{ groupId: 'g', capability: {} }] }, /option groups\[0\]\.capability;/],
  ])('%s fails the bootstrap, naming the key and the known ones', async (_, options, message) => {
    await expect(boot({ url: `memory://${randomUUID()}`, ...options })).rejects.toThrow(message);
  });

  it('the module-level extras are known keys', async () => {
    await expect(
      boot({ url: `memory://${randomUUID()}`, isGlobal: false, importScheduleModule: true }),
    ).resolves.toBeUndefined();
  });
});
