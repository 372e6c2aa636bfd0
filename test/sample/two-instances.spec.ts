/**
 * The sample started twice on one backend (README.md, "The sample on Redis or PostgreSQL, twice"), as the
 * README shows by hand — a Redis namespace, and a PostgreSQL schema. Two real
 * Node processes (the sample compiled with SWC into a temporary directory:
 * `nest start` and dist-sample/ belong to sample.spec.ts) give one leader and
 * the work items split between them; SIGKILL of the leader moves the
 * leadership and all its items to the other within one watcher interval plus
 * a few round trips (on Redis its session channel goes with its connection;
 * on PostgreSQL its session advisory locks go with its backend).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { transformFile } from '@swc/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNSUBSCRIBED_GRACE_MS } from '../../lib/drivers/redis/scripts/session-liveness.js';
import { type CompiledLib, compileLib } from '../support/compiled-lib.js';
import { testNamespace, testSchema } from '../support/drivers.js';
import { POSTGRES, REDIS, type Server, serverInUse } from '../support/servers.js';
import { freePort } from '../support/free-port.js';

const root = resolve(import.meta.dirname, '../..');
const STARTUP_MS = 30_000;
/** The heart runs runWatchers() every second (the module's default); a crash costs that plus round trips, not the 30 s lease. */
const FAILOVER_MS = 2_500;
const ITEMS = Array.from({ length: 12 }, (_, i) => `item-${i + 1}`);

interface Status {
  memberId: string;
  members: string[];
  leader: string | null;
  isLeader: boolean;
}

interface Items {
  owners: Record<string, string>;
  mine: string[];
}

/** sample/*.ts compiled beside the compiled lib/, so its `../lib/index.js` imports resolve. */
async function compileSample(lib: CompiledLib): Promise<string> {
  const out = join(dirname(lib.dir), 'sample');
  await mkdir(out, { recursive: true });
  for (const name of await readdir(join(root, 'sample'))) {
    if (!name.endsWith('.ts')) continue;
    const { code } = await transformFile(join(root, 'sample', name), {
      swcrc: false,
      configFile: false,
      sourceMaps: false,
      module: { type: 'es6' },
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
      },
    });
    await writeFile(join(out, name.replace(/\.ts$/, '.js')), code);
  }
  return join(out, 'main.js');
}

/** One running sample: `node sample/main.js` with its own PORT and member id. */
class SampleInstance {
  output = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<unknown>;

  constructor(
    readonly child: ChildProcess,
    readonly base: string,
    readonly memberId: string,
  ) {
    const collect = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-16_000));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    this.exited = new Promise((done) => child.once('exit', (code, signal) => done((this.exit = { code, signal }))));
  }

  log(): string {
    return `\n--- ${this.memberId} output ---\n${this.output.slice(-4_000)}`;
  }

  async get<T>(path: string): Promise<T> {
    const response = await fetch(`${this.base}${path}`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}${this.log()}`);
    return (await response.json()) as T;
  }

  async view(): Promise<{ status: Status; items: Items }> {
    return { status: await this.get<Status>('/status'), items: await this.get<Items>('/items') };
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    if (this.exit) return;
    this.child.kill(signal);
    await Promise.race([this.exited, sleep(10_000)]);
    if (!this.exit) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

async function startSample(main: string, url: string, memberId: string): Promise<SampleInstance> {
  const port = await freePort();
  const env = {
    ...process.env,
    PORT: String(port),
    COORDINATION_URL: url,
    COORDINATION_MEMBER_ID: memberId,
    NO_COLOR: '1',
  };
  const child = spawn(process.execPath, [main], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const instance = new SampleInstance(child, `http://127.0.0.1:${port}`, memberId);
  const deadline = performance.now() + STARTUP_MS;
  for (;;) {
    if (instance.exit) throw new Error(`sample ${memberId} exited (${JSON.stringify(instance.exit)})${instance.log()}`);
    try {
      await instance.get('/status');
      return instance;
    } catch {
      if (performance.now() > deadline) throw new Error(`sample ${memberId} did not answer${instance.log()}`);
      await sleep(100);
    }
  }
}

/** Poll `check` until it returns true; false after `withinMs`. */
async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<boolean> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (performance.now() > deadline) return false;
    await sleep(25);
  }
}

/** The backends the sample runs twice on: each a URL of its own (a fresh namespace or schema), as in the README. */
const backends: { scheme: string; server: Server; url: () => string; graceMs?: number }[] = [
  {
    scheme: 'redis://',
    server: REDIS,
    url: () => `redis://127.0.0.1:6379/0?namespace=${testNamespace()}`,
    // Others take over a session whose channel lost its subscriber only after its grace, and a candidate's
    // watcher run may just miss its end (docs/redis.md#failover).
    graceMs: UNSUBSCRIBED_GRACE_MS + 1_000,
  },
  {
    scheme: 'postgresql://',
    server: POSTGRES,
    url: () => `postgresql://root@127.0.0.1:5432/test?schema=${testSchema()}`,
  },
];

// lib/ and the sample compiled once for every backend, only when one runs.
let compiled: Promise<{ lib: CompiledLib; main: string }> | undefined;
function compiledSample(): Promise<{ lib: CompiledLib; main: string }> {
  return (compiled ??= compileLib().then(async (lib) => ({ lib, main: await compileSample(lib) })));
}
afterAll(async () => {
  if (compiled) await (await compiled).lib.remove();
});

// serverInUse skips a server loudly when it is down off CI (and fails its tests under CI).
for (const backend of backends)
  describe.runIf(await serverInUse(backend.server))(`the sample started twice on ${backend.scheme}`, () => {
    const instances: SampleInstance[] = [];
    // Should the worker go away without running afterAll, the samples go too.
    const killOnExit = () => instances.forEach((instance) => instance.child.kill('SIGKILL'));

    beforeAll(
      async () => {
        const { main } = await compiledSample();
        process.once('exit', killOnExit);
        const url = backend.url();
        // Sequential: the first one up leads, and the second must find it there.
        instances.push(await startSample(main, url, 'sample-a'));
        instances.push(await startSample(main, url, 'sample-b'));
      },
      2 * STARTUP_MS + 30_000,
    );

    afterAll(async () => {
      try {
        await Promise.all(instances.map((instance) => instance.stop('SIGTERM')));
      } finally {
        process.off('exit', killOnExit);
      }
    }, 30_000);

    const logs = () => instances.map((instance) => instance.log()).join('');

    it('has one leader, and the twelve items split between the two', async () => {
      const [a, b] = instances as [SampleInstance, SampleInstance];
      // Each learns of the other at its next watcher run (every second).
      const settled = await eventually(async () => {
        const [viewA, viewB] = [await a.view(), await b.view()];
        return (
          viewA.status.members.length === 2 &&
          viewB.status.members.length === 2 &&
          viewA.items.mine.length + viewB.items.mine.length === ITEMS.length &&
          viewA.items.mine.length > 0 &&
          viewB.items.mine.length > 0
        );
      }, 10_000);
      expect(settled, `the two never saw each other${logs()}`).toBe(true);

      const [viewA, viewB] = [await a.view(), await b.view()];
      expect(viewA.status.members).toEqual(['sample-a', 'sample-b']);
      expect(viewB.status.members).toEqual(['sample-a', 'sample-b']);
      expect(viewA.status.leader).toBe('sample-a');
      expect(viewB.status.leader).toBe('sample-a');
      expect([viewA.status.isLeader, viewB.status.isLeader]).toEqual([true, false]);
      // Both read the same ring: every item has one owner, the same on both sides.
      expect(viewA.items.owners).toEqual(viewB.items.owners);
      expect(Object.keys(viewA.items.owners).sort()).toEqual([...ITEMS].sort());
      expect([...viewA.items.mine, ...viewB.items.mine].sort()).toEqual([...ITEMS].sort());
      for (const item of viewA.items.mine) expect(viewA.items.owners[item]).toBe('sample-a');
      for (const item of viewB.items.mine) expect(viewB.items.owners[item]).toBe('sample-b');
    });

    it('SIGKILL of the leader moves the leadership and its items to the other within the failover bound', async () => {
      const [a, b] = instances as [SampleInstance, SampleInstance];
      expect((await a.get<Status>('/status')).isLeader).toBe(true);
      expect(b.output, 'sample-b reported while sample-a led').not.toContain('I lead sample-instances');
      const killedAt = performance.now();
      await a.stop('SIGKILL');
      expect(a.exit).toEqual({ code: null, signal: 'SIGKILL' });

      const tookOver = await eventually(async () => {
        const { status, items } = await b.view();
        return status.isLeader && status.members.length === 1 && items.mine.length === ITEMS.length;
      }, 15_000);
      const failoverMs = performance.now() - killedAt;
      expect(tookOver, `sample-b never took over${logs()}`).toBe(true);
      expect(failoverMs, `took ${Math.round(failoverMs)} ms${logs()}`).toBeLessThan(
        FAILOVER_MS + (backend.graceMs ?? 0),
      );

      const { status, items } = await b.view();
      expect(status).toMatchObject({ memberId: 'sample-b', members: ['sample-b'], leader: 'sample-b', isLeader: true });
      for (const item of ITEMS) expect(items.owners[item], item).toBe('sample-b');
      // The leader's @Leader job now runs here.
      expect(
        await eventually(async () => b.output.includes('I lead sample-instances'), 6_000),
        `no report from sample-b${b.log()}`,
      ).toBe(true);
    });
  });
