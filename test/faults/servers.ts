/**
 * Servers the fault suite owns and breaks (docs/fault-suite.md):
 * a redis-server and a PostgreSQL cluster on spare loopback ports, never the
 * shared 6379/5432. Every process is ended by its own pid; temp dirs go.
 * PostgreSQL refuses to run as root (as CI runs): as root, initdb and the
 * postmaster run as the `postgres` user (the spawn's uid/gid, which is what
 * `runuser -u postgres` does, keeping the postmaster's own pid).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort } from '../support/free-port.js';
import { until } from '../redis/redis-servers.js';

/** PostgreSQL's binaries: `$PG_BIN`, else the newest /usr/lib/postgresql/<version>/bin (Debian's layout). */
const PG_BIN =
  process.env.PG_BIN ??
  (existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .filter((version) => existsSync(join('/usr/lib/postgresql', version, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => join('/usr/lib/postgresql', version, 'bin'))[0]
    : undefined) ??
  '/usr/lib/postgresql/15/bin';

/**
 * Whether a scenario needing `binary` runs: always under CI (where a missing
 * binary must fail), else when it is installed, with a loud warning when not.
 */
export function serverBinaryInUse(binary: 'redis-server' | 'postgres'): boolean {
  if (process.env.CI) return true;
  const found =
    binary === 'redis-server'
      ? spawnSync('redis-server', ['--version']).status === 0
      : spawnSync(join(PG_BIN, 'postgres'), ['--version']).status === 0;
  if (!found) {
    console.warn(
      `\n*** ${binary} is not installed: its fault scenarios are SKIPPED.\n` +
        `*** Install it (apt-get install ${binary === 'postgres' ? 'postgresql-15' : 'redis-server'}).\n`,
    );
  }
  return found;
}

async function ended(child: ChildProcess, withinMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await Promise.race([once(child, 'exit'), sleep(withinMs)]);
}

/** One redis-server without persistence, restartable on the same port. */
export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'nc-faults-redis-'));
  private process: ChildProcess | undefined;
  private admin: Redis | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.spawn();
    return server;
  }

  get pid(): number {
    return this.process!.pid!;
  }

  private async spawn(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    this.process = spawn('redis-server', [...args, '--dir', this.dir], { stdio: 'ignore' });
    await until(() => this.ping(), 10_000, `redis-server on ${this.port} answering`);
  }

  private async ping(): Promise<boolean> {
    const probe = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }

  /** A client of the test's own (not one the coordinators use). */
  client(): Redis {
    if (!this.admin) {
      this.admin = new Redis({ port: this.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      this.admin.on('error', () => undefined);
    }
    return this.admin;
  }

  /** `SHUTDOWN NOSAVE`: every key is lost. */
  async shutdownNosave(): Promise<void> {
    await this.client()
      .call('SHUTDOWN', 'NOSAVE')
      .catch(() => undefined);
    await ended(this.process!, 5_000);
    this.admin?.disconnect();
    this.admin = undefined;
  }

  /** Start again on the same port, empty. */
  restart(): Promise<void> {
    return this.spawn();
  }

  pause(): void {
    process.kill(this.pid, 'SIGSTOP');
  }

  resume(): void {
    process.kill(this.pid, 'SIGCONT');
  }

  /** `CLIENT KILL TYPE normal|pubsub`: every connection of that type but the test's own. */
  async killClients(type: 'normal' | 'pubsub'): Promise<number> {
    return (await this.client().call('CLIENT', 'KILL', 'TYPE', type, 'SKIPME', 'yes')) as number;
  }

  async stop(): Promise<void> {
    this.admin?.disconnect();
    const child = this.process;
    if (child && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, 'SIGCONT'); // a paused server must die too
      process.kill(child.pid!, 'SIGKILL');
      await ended(child, 5_000);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One PostgreSQL cluster of the test's own: trust auth, user and database `postgres`. */
export class PostgresCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'nc-faults-pg-'));
  private process: ChildProcess | undefined;
  private readonly owner = process.getuid?.() === 0 ? postgresUser() : undefined;

  private constructor(readonly port: number) {}

  static async start(settings: Record<string, string> = {}): Promise<PostgresCluster> {
    const cluster = new PostgresCluster(await freePort());
    if (cluster.owner) chownSync(cluster.dir, cluster.owner.uid, cluster.owner.gid);
    const init = spawnSync(
      join(PG_BIN, 'initdb'),
      ['-D', join(cluster.dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'],
      { encoding: 'utf8', ...cluster.owner, cwd: cluster.dir },
    );
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    cluster.settings = settings;
    await cluster.spawn();
    return cluster;
  }

  private settings: Record<string, string> = {};

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get pid(): number {
    return this.process!.pid!;
  }

  private async spawn(): Promise<void> {
    const settings = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: this.dir,
      fsync: 'off',
      // Room in the shared lock table for the 150 000 advisory locks of the busy session (docs/fault-suite.md).
      max_locks_per_transaction: '2048',
      ...this.settings,
    };
    const args = ['-D', join(this.dir, 'data'), '-p', String(this.port)];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    this.process = spawn(join(PG_BIN, 'postgres'), args, { stdio: 'ignore', ...this.owner, cwd: this.dir });
    await until(() => this.ready(), 20_000, `PostgreSQL on ${this.port} answering`);
  }

  private async ready(): Promise<boolean> {
    if (this.process!.exitCode !== null) throw new Error(`postgres on ${this.port} exited (${this.process!.exitCode})`);
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** A connection of the test's own; end it. */
  async client(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /** Fast shutdown (every session ends), then start again on the same port. */
  async restart(): Promise<void> {
    process.kill(this.pid, 'SIGINT');
    await ended(this.process!, 15_000);
    await this.spawn();
  }

  /** The postmaster and every backend of this cluster (children of the postmaster). */
  private pids(): number[] {
    const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(this.pid)], { encoding: 'utf8' });
    return [this.pid, ...children.stdout.split('\n').filter(Boolean).map(Number)];
  }

  /** SIGSTOP the whole server: postmaster and backends. */
  pause(): number[] {
    const pids = this.pids();
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    return pids;
  }

  resume(pids: number[]): void {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // ended meanwhile
      }
    }
  }

  /** `pg_terminate_backend` of every other session of `application`. */
  async terminate(application = 'nestjs-coordination'): Promise<number> {
    const client = await this.client();
    try {
      const { rows } = await client.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
        [application],
      );
      return rows.length;
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child && child.exitCode === null && child.signalCode === null) {
      this.resume(this.pids());
      process.kill(child.pid!, 'SIGQUIT'); // immediate shutdown: nothing here needs saving
      await ended(child, 10_000);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user: PostgreSQL refuses to run as root');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
