/**
 * redis-server processes of a test's own (primary, replicas, sentinels) on
 * free loopback ports, never persisting anything, each killed by its pid.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './tcp-proxy.js';

/** Whether `redis-server` runs here. */
export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

export interface OwnServer {
  port: number;
  process: ChildProcess;
  /** redis-server's arguments (a restart reuses them). */
  args: string[];
  /** A client to it (made on first use). */
  client(): Redis;
}

/** Starts servers in one temp dir; `stopAll()` kills each by its pid and removes the dir. */
export class OwnServers {
  readonly dir = mkdtempSync(join(tmpdir(), 'nc-redis-'));
  private readonly started: OwnServer[] = [];
  private readonly clients: Redis[] = [];

  async redis(args: string[] = []): Promise<OwnServer> {
    const port = await freePort();
    return this.spawn(port, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--dbfilename',
      `dump-${port}.rdb`,
      // A primary waits 5 s by default before a diskless sync, to batch replicas: start at once.
      '--repl-diskless-sync-delay',
      '0',
      ...args,
    ]);
  }

  /** A sentinel monitoring `primaryPort` as `name`, quorum 1, quick to act. */
  async sentinel(name: string, primaryPort: number): Promise<OwnServer> {
    const port = await freePort();
    const config = join(this.dir, `sentinel-${port}.conf`);
    writeFileSync(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    return this.spawn(port, [config, '--sentinel']);
  }

  private async spawn(port: number, args: string[]): Promise<OwnServer> {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const server: OwnServer = {
      port,
      process: child,
      args,
      client: () => {
        const client = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1 });
        client.on('error', () => undefined);
        this.clients.push(client);
        return client;
      },
    };
    this.started.push(server);
    const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await until(async () => {
        if (child.exitCode !== null) throw new Error(`redis-server ${args.join(' ')} exited: ${stderr}`);
        try {
          if (probe.status !== 'ready') await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          probe.disconnect();
          return false;
        }
      }, 5_000);
    } finally {
      probe.disconnect();
    }
    return server;
  }

  /**
   * `SHUTDOWN NOSAVE`, then start it again on the same port with the same
   * arguments: Redis comes back empty, as after a restart without persistence.
   */
  async restart(server: OwnServer): Promise<OwnServer> {
    const exited = new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
    const admin = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, retryStrategy: () => null });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.call('SHUTDOWN', 'NOSAVE').catch(() => undefined); // the connection closes before any reply
    admin.disconnect();
    await exited;
    const again = await this.spawn(server.port, server.args);
    server.process = again.process;
    return server;
  }

  /** Kill one server (SIGKILL, by its pid). */
  kill(server: OwnServer): void {
    if (server.process.exitCode === null && server.process.pid) process.kill(server.process.pid, 'SIGKILL');
  }

  async stopAll(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    const exits = this.started.map(
      (server) =>
        new Promise<void>((resolve) => {
          if (server.process.exitCode !== null || server.process.signalCode !== null) return resolve();
          server.process.once('exit', () => resolve());
          if (server.process.pid) process.kill(server.process.pid, 'SIGCONT'); // a paused one must die too
          this.kill(server);
        }),
    );
    await Promise.all(exits);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Poll `check` until it is true; throws after `withinMs`. */
export async function until(
  check: () => Promise<boolean> | boolean,
  withinMs: number,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
