/**
 * A throw-away PostgreSQL cluster of a test's own, on a free loopback port,
 * for tests that need server settings the shared server does not have (a
 * lock table big enough for 150 000 advisory locks, say). `initdb` and
 * `postgres` refuse to run as root, so as root they run as the `postgres`
 * user (`runuser`); the data directory is removed and the postmaster
 * stopped by its pid at the end.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../support/free-port.js';

const BIN = '/usr/lib/postgresql/15/bin';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How to run a PostgreSQL binary here: as `postgres` when we are root. */
function command(binary: string, args: string[]): [string, string[]] {
  const path = join(BIN, binary);
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

/** Whether this machine can start a cluster of its own (the binaries, and a `postgres` user when root). */
export function canRunOwnPostgres(): boolean {
  if (!existsSync(join(BIN, 'initdb'))) return false;
  return process.getuid?.() !== 0 || spawnSync('id', ['-u', 'postgres']).status === 0;
}

export class OwnPostgres {
  private constructor(
    private readonly dir: string,
    private readonly server: ChildProcess,
    readonly port: number,
  ) {}

  /** initdb, then start with `settings` (`-c name=value`); resolves once it accepts connections. */
  static async start(settings: Record<string, string> = {}): Promise<OwnPostgres> {
    const dir = await mkdtemp(join(tmpdir(), 'nestjs-coordination-pg-'));
    if (process.getuid?.() === 0) {
      const { uid, gid } = pgUser();
      await chown(dir, uid, gid);
    }
    const data = join(dir, 'data');
    const [initdb, initArgs] = command('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    const init = spawnSync(initdb, initArgs, { encoding: 'utf8', timeout: 60_000 });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    const port = await freePort();
    const options = { listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'off', ...settings };
    const [postgres, args] = command('postgres', [
      '-D',
      data,
      '-p',
      String(port),
      ...Object.entries(options).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ]);
    const server = spawn(postgres, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    server.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
    const own = new OwnPostgres(dir, server, port);
    for (let attempt = 0; ; attempt++) {
      const client = new pg.Client({ connectionString: own.url });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.end();
        return own;
      } catch {
        if (attempt === 100 || server.exitCode !== null) {
          await own.stop();
          throw new Error(`our own PostgreSQL did not start: ${output}`);
        }
        await sleep(100);
      }
    }
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Fast shutdown of our postmaster (by the pid it wrote), then remove its files. */
  async stop(): Promise<void> {
    const pidFile = join(this.dir, 'data', 'postmaster.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // gone already
      }
      for (let i = 0; i < 100 && existsSync(pidFile); i++) await sleep(50);
    }
    this.server.kill('SIGKILL');
    await rm(this.dir, { recursive: true, force: true });
  }
}

function pgUser(): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}
