/**
 * A NestJS application that gets SIGTERM while its `@WithLock` and `@Leader`
 * work runs (docs/fault-suite.md, docs/nestjs.md): two instances of
 * nest-app.ts on one backend of this file's own; the first is sent SIGTERM
 * in the middle of a locked call. It must end its calls, give up its locks
 * and leadership and exit within its shutdown timeout, and at no time may
 * two instances hold the lock or lead together.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { transformFile } from '@swc/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CompiledLib, compileLib } from '../support/compiled-lib.js';
import { PostgresCluster, RedisServer, serverBinaryInUse } from './servers.js';
import { DURATION_MS, now, Workload } from './workload.js';

/** The app's `shutdown.timeoutMs` (nest-app.ts). */
const SHUTDOWN_MS = 3_000;
const TIMEOUT_S = 4;

async function compileApp(lib: CompiledLib): Promise<string> {
  const { code } = await transformFile(join(import.meta.dirname, 'nest-app.ts'), {
    swcrc: false,
    configFile: false,
    module: { type: 'es6' },
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
  });
  return lib.script('fault-nest-app.mjs', code.replaceAll('../../lib/', './lib/'));
}

describe('a NestJS application getting SIGTERM while @WithLock and @Leader work runs', () => {
  let lib: CompiledLib;
  let app: string;

  beforeAll(async () => {
    lib = await compileLib();
    app = await compileApp(lib);
  }, 120_000);
  afterAll(() => lib?.remove());

  async function scenario(driver: string, url: string, observerUrl = url): Promise<void> {
    const workload = await Workload.start(lib, {
      scenario: `${driver}: SIGTERM of a NestJS app mid-work`,
      url,
      observerUrl,
      processes: 0,
      membersPerProcess: 0,
      locks: ['job'],
      beatMs: (TIMEOUT_S * 1000) / 2,
      callBoundMs: TIMEOUT_S * 1000,
    });
    const apps: ChildProcess[] = [];
    try {
      const start = (name: string) => {
        const child = spawn(
          process.execPath,
          [app, url, `${name}-${workload.group}`, workload.group, join(workload.dir, `${name}.jsonl`)],
          {
            stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
          },
        );
        let stderr = '';
        child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
        apps.push(child);
        return { child, stderr: () => stderr };
      };
      const first = start('app-a');
      const second = start('app-b');
      await sleep(Math.min(DURATION_MS, 3_000));
      // SIGTERM while a locked call of the first app runs.
      await Promise.race([once(first.child, 'message'), sleep(10_000)]);
      const exited = once(first.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      const sent = now();
      first.child.kill('SIGTERM');
      const [code, signal] = await Promise.race([exited, sleep(SHUTDOWN_MS + 5_000).then(() => [null, null] as const)]);
      const exitedAt = now();
      workload.record({ t: 'fault', name: 'SIGTERM of app-a', start: sent, end: exitedAt });
      workload.record({
        t: 'op',
        op: 'SIGTERM → exit',
        member: `app-a-${workload.group}`,
        pid: first.child.pid!,
        start: sent,
        end: code === null && signal === null ? null : exitedAt,
        timeoutMs: SHUTDOWN_MS,
        outcome: `code ${code}, signal ${signal}`,
      });
      // Nest re-raises the signal once closed: a clean exit is code 0 or SIGTERM, never a kill.
      expect([0, 'SIGTERM'], first.stderr()).toContain(code ?? signal);
      await sleep(Math.max(DURATION_MS - 3_000, 2_000));
      await workload.readMembers();
      second.child.kill('SIGTERM');
      await Promise.race([once(second.child, 'exit'), sleep(SHUTDOWN_MS + 5_000)]);
      await workload.checkLocksFree();
      const { violations, text } = await workload.verdict();
      console.log(text);
      expect(violations.length, text).toBe(0);
      expect(text).toMatch(/[1-9]\d* holds/);
    } finally {
      for (const child of apps) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await workload.dispose();
    }
  }

  it.runIf(serverBinaryInUse('redis-server'))(
    'on redis://',
    async () => {
      const redis = await RedisServer.start();
      try {
        await scenario('redis', `redis://127.0.0.1:${redis.port}/0?namespace=faults&timeout=${TIMEOUT_S}`);
      } finally {
        await redis.stop();
      }
    },
    90_000 + 2 * DURATION_MS,
  );

  it.runIf(serverBinaryInUse('postgres'))(
    'on postgresql://',
    async () => {
      const cluster = await PostgresCluster.start();
      try {
        await scenario('postgresql', `${cluster.url}?schema=faults&timeout=${TIMEOUT_S}`);
      } finally {
        await cluster.stop();
      }
    },
    90_000 + 2 * DURATION_MS,
  );
});
