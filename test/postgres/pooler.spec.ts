/**
 * Poolers (docs/postgresql.md#connections): through a transaction-mode pooler, where session advisory
 * locks, LISTEN and named prepared statements cannot work, `start()` is
 * refused with a clear error; through a session-mode pool the driver works.
 * The real PgBouncer (Debian's `pgbouncer`, installed by .ci/run), one of
 * our own per test file on a free loopback port, with a config in a
 * temporary directory, killed by its pid at the end.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationError, type Coordinator, getCoordinator } from '../../lib/index.js';
import { testSchema } from '../support/drivers.js';
import { POSTGRES, serverInUse } from '../support/servers.js';
import { freePort } from '../support/free-port.js';

function hasPgBouncer(): boolean {
  return spawnSync('pgbouncer', ['-V'], { timeout: 10_000 }).status === 0;
}

/** Under CI a missing pgbouncer fails these tests (.ci/run installs it); elsewhere they are skipped, loudly. */
async function pgBouncerInUse(): Promise<boolean> {
  if (!(await serverInUse(POSTGRES))) return false;
  if (process.env.CI || hasPgBouncer()) return true;
  console.warn(
    '\n*** pgbouncer is not installed: the transaction-mode pooler tests (test/postgres/pooler.spec.ts) are SKIPPED.\n' +
      '*** Install it with: apt-get install -y pgbouncer\n',
  );
  return false;
}

/** One PgBouncer of ours: `tx` is a transaction-mode pool on database test, `session` a session-mode one. */
class PgBouncer {
  output = '';

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly dir: string,
  ) {
    const collect = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-8_000));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
  }

  static async start(settings: Record<string, string> = {}): Promise<PgBouncer> {
    const dir = await mkdtemp(join(tmpdir(), 'nestjs-coordination-pgbouncer-'));
    const port = await freePort();
    const target = 'host=127.0.0.1 port=5432 dbname=test user=root';
    const config = [
      '[databases]',
      `tx = ${target} pool_mode=transaction`,
      `session = ${target} pool_mode=session`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      // The console (database pgbouncer) for SHOW CLIENTS.
      'admin_users = root',
      // pg sends statement_timeout as a startup parameter, which PgBouncer refuses by default.
      'ignore_startup_parameters = statement_timeout',
      ...Object.entries(settings).map(([key, value]) => `${key} = ${value}`),
    ].join('\n');
    await writeFile(join(dir, 'pgbouncer.ini'), `${config}\n`);
    await writeFile(join(dir, 'users.txt'), '"root" ""\n');
    // PgBouncer refuses to run as root: it drops to the postgres user (or nobody) with -u, who must read the config.
    await chmod(dir, 0o755);
    const asRoot = process.getuid?.() === 0;
    const user = spawnSync('id', ['postgres']).status === 0 ? 'postgres' : 'nobody';
    const args = [...(asRoot ? ['-u', user] : []), join(dir, 'pgbouncer.ini')];
    const child = spawn('pgbouncer', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const bouncer = new PgBouncer(child, port, dir);
    const deadline = Date.now() + 10_000;
    while (!bouncer.output.includes('process up')) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await bouncer.stop();
        throw new Error(`pgbouncer did not start:\n${bouncer.output}`);
      }
      await sleep(20);
    }
    return bouncer;
  }

  url(database: 'tx' | 'session', schema = testSchema()): string {
    return `postgresql://root@127.0.0.1:${this.port}/${database}?schema=${schema}`;
  }

  /** Through the console: the clients connected to `database`. */
  async clients(database: string): Promise<number> {
    const client = new pg.Client({ host: '127.0.0.1', port: this.port, user: 'root', database: 'pgbouncer' });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<{ database: string }>('SHOW CLIENTS');
      return rows.filter((row) => row.database === database).length;
    } finally {
      await client.end();
    }
  }

  /** Kill it by its pid (and wait for it to go), then remove its directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      if ((await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)])) === false) {
        this.child.kill('SIGKILL');
        await exited;
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

describe.runIf(await pgBouncerInUse())('postgresql:// through PgBouncer', () => {
  const bouncers: PgBouncer[] = [];
  const started: Coordinator[] = [];
  // Should the worker go away without running afterAll, our pgbouncers go too.
  const killOnExit = () => bouncers.forEach((bouncer) => bouncer.child.kill('SIGKILL'));
  let lifo: PgBouncer;
  let roundRobin: PgBouncer;

  beforeAll(async () => {
    process.once('exit', killOnExit);
    // PgBouncer's default: the most recently used idle server connection serves the next transaction.
    bouncers.push((lifo = await PgBouncer.start()));
    // Idle server connections taken in turn: consecutive transactions land on different backends.
    bouncers.push((roundRobin = await PgBouncer.start({ server_round_robin: '1' })));
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => (c.isStarted ? c.stop() : undefined)));
  });

  afterAll(async () => {
    try {
      await Promise.all(bouncers.map((bouncer) => bouncer.stop()));
    } finally {
      process.off('exit', killOnExit);
    }
  });

  async function coordinator(url: string, memberId: string): Promise<Coordinator> {
    const c = await getCoordinator(url, memberId);
    started.push(c);
    return c;
  }

  /** What `start()` threw, or undefined when it succeeded. */
  function startFailure(c: Coordinator): Promise<unknown> {
    return c.start().then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  /** The driver's documented refusal: a CoordinationError naming the transaction-mode pooler and the way out. */
  function expectPoolerRefusal(failure: unknown, bouncer: PgBouncer): void {
    const seen = failure === undefined ? 'start() succeeded' : `start() failed with ${inspect(failure, { depth: 1 })}`;
    expect(failure, `${seen}\n--- pgbouncer log ---\n${bouncer.output}`).toBeInstanceOf(CoordinationError);
    expect((failure as Error).message).toMatch(/transaction-mode pooler/);
    expect((failure as Error).message).toMatch(/session-mode pool/);
  }

  it('a lone coordinator through a transaction-mode pool (PgBouncer’s defaults): start() is refused, naming the pooler', async () => {
    const c = await coordinator(lifo.url('tx'), 'alone');
    // Alone on the pool, every transaction of ours lands on the same idle server connection:
    // the refusal must not depend on another client taking it meanwhile.
    expectPoolerRefusal(await startFailure(c), lifo);
    expect(c.isStarted).toBe(false);
  });

  it('through a transaction-mode pool whose consecutive transactions change backend: start() is refused, naming the pooler', async () => {
    // Two server connections in the pool, so that round robin has two to alternate between.
    const warm = [0, 1].map(
      () => new pg.Client({ host: '127.0.0.1', port: roundRobin.port, user: 'root', database: 'tx' }),
    );
    await Promise.all(warm.map((client) => client.connect()));
    await Promise.all(warm.map((client) => client.query('BEGIN')));
    const pids = await Promise.all(
      warm.map(async (client) => (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid),
    );
    expect(new Set(pids).size).toBe(2);
    await Promise.all(warm.map((client) => client.query('COMMIT')));
    await Promise.all(warm.map((client) => client.end()));

    const c = await coordinator(roundRobin.url('tx'), 'moved');
    expectPoolerRefusal(await startFailure(c), roundRobin);
    expect(c.isStarted).toBe(false);
  });

  it('through a session-mode pool the driver works: locks exclude, members and leader are seen, a stop frees them', async () => {
    const schema = testSchema();
    const [a, b] = [
      await coordinator(lifo.url('session', schema), 'a'),
      await coordinator(lifo.url('session', schema), 'b'),
    ];
    await a.start();
    await b.start();
    // Both really went through the pooler.
    expect(await lifo.clients('session')).toBe(2);

    const lockA = a.getLock('l');
    expect(await lockA.acquire({ blocking: false })).toBe(true);
    expect(await b.getLock('l').acquire({ blocking: false })).toBe(false);

    await a.joinGroupCreate('g', { role: 'a' });
    await b.joinGroup('g');
    await a.watchElectedAsLeader('g', () => undefined);
    await a.runWatchers();
    expect(await b.getMembers('g')).toEqual(new Set(['a', 'b']));
    expect(await b.getMemberCapabilities('g', 'a')).toEqual({ role: 'a' });
    expect(await b.getLeader('g')).toBe('a');

    await a.stop();
    expect(await b.getLock('l').acquire({ blocking: false })).toBe(true);
    expect(await b.getMembers('g')).toEqual(new Set(['b']));
    expect(await b.getLeader('g')).toBeNull();
  });
});
