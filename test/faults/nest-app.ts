/**
 * A NestJS application of the fault suite (docs/fault-suite.md): one
 * `@WithLock` method and one `@Leader` method called over and over, each
 * call recorded in the history like a worker's holds, until the process gets
 * SIGTERM. Compiled by SWC beside the compiled lib (nest.fault.ts), where
 * `../../lib/` becomes `./lib/`. Tells its parent `{ working: true }` each
 * time a locked call starts.
 */
import 'reflect-metadata';
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CoordinationModule, Coordinator, currentLock, currentLockSignal, Leader, WithLock } from '../../lib/index.js';
import type { HistoryRecord } from './history.js';

const [url, memberId, group, history] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const record = (entry: HistoryRecord) => appendFileSync(history, JSON.stringify(entry) + '\n');
let ids = 0;
let closing = false;

@Injectable()
class Work implements OnApplicationShutdown {
  constructor(private readonly coordinator: Coordinator) {}

  @WithLock('job', { timeoutMs: 1_000, onLocked: 'skip' })
  async locked(): Promise<void> {
    const lock = currentLock()!;
    const id = `${process.pid}:${++ids}`;
    const token = lock.fencingToken === null ? null : String(lock.fencingToken);
    record({
      t: 'grant',
      id,
      lock: 'job',
      mode: 'exclusive',
      token,
      member: memberId,
      pid: process.pid,
      requestedAt: now(),
      at: now(),
    });
    const signal = currentLockSignal()!;
    signal.addEventListener('abort', () => record({ t: 'loss', id, at: now(), signal: 'currentLockSignal aborted' }), {
      once: true,
    });
    process.send?.({ working: true });
    // The work: 300 ms, or less when the hold ends first.
    await sleep(300, undefined, { signal }).catch(() => undefined);
    record({ t: 'end', id, at: now(), how: signal.aborted ? 'lost' : 'released' });
  }

  @Leader(group)
  async lead(): Promise<void> {
    const id = `${process.pid}:${++ids}`;
    record({
      t: 'grant',
      id,
      lock: `leader:${group}`,
      mode: 'leader',
      token: null,
      member: memberId,
      pid: process.pid,
      requestedAt: now(),
      at: now(),
    });
    const until = now() + 200;
    while (now() < until && this.coordinator.isLeaderOf(group)) await sleep(10);
    if (!this.coordinator.isLeaderOf(group)) record({ t: 'loss', id, at: now(), signal: 'isLeaderOf false' });
    record({ t: 'end', id, at: now(), how: 'released' });
  }

  onApplicationShutdown(): void {
    record({ t: 'left', member: memberId, group, at: now() });
  }
}

@Module({
  imports: [
    CoordinationModule.forRoot({ url, memberId, groups: [{ groupId: group }], shutdown: { timeoutMs: 3_000 } }),
  ],
  providers: [Work],
})
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: ['error'] });
app.enableShutdownHooks();
await app.init();
record({ t: 'joined', member: memberId, group, at: now() });
process.once('SIGTERM', () => (closing = true));
const work = app.get(Work);
// What an @Interval job would do, bounded: until the shutdown refuses new calls.
for (let calls = 0; !closing && calls < 100_000; calls++) {
  await Promise.all([work.locked(), work.lead()]).catch(() => (closing = true));
  await sleep(5);
}
