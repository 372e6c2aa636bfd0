/**
 * Helpers for the PostgreSQL driver's own tests: an admin connection to
 * look at the server (pg_locks, pg_stat_activity), a TCP proxy that counts
 * the round trips a coordinator makes, and Python tooz on the system Python.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { testSchema } from '../support/drivers.js';

export const BASE_URL = 'postgresql://root@127.0.0.1:5432/test';

/** A URL on a schema of this test's own (dropped after the file by test/support/cleanup.ts). */
export function isolatedUrl(query: Record<string, string> = {}, base = BASE_URL): string {
  const params = new URLSearchParams({ schema: testSchema(), ...query });
  return `${base}?${params}`;
}

/** A plain pg connection for looking at the server; ended after the test. */
export async function adminClient(onTestFinished: (fn: () => Promise<void>) => void): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: BASE_URL });
  client.on('error', () => undefined);
  await client.connect();
  onTestFinished(() => client.end());
  return client;
}

/**
 * A TCP proxy in front of PostgreSQL that counts the round trips clients
 * make: every simple Query ('Q') and every Sync ('S', which ends an
 * extended-protocol exchange: Parse/Bind/Execute… then one answer).
 * While `silent`, every byte either way is dropped and the sockets stay
 * open: the network went quiet (a cable pulled, a partition), as opposed
 * to a connection that closes.
 */
export class RoundTripCounter {
  count = 0;
  silent = false;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor() {
    this.server = createServer((client) => this.relay(client));
  }

  static async start(): Promise<RoundTripCounter> {
    const counter = new RoundTripCounter();
    counter.server.listen(0, '127.0.0.1');
    await once(counter.server, 'listening');
    return counter;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  private relay(client: Socket): void {
    const upstream = connect(5432, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      if (this.silent) return;
      upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        // The startup message has no type byte; every later one does.
        const header = started ? 5 : 4;
        if (pending.length < header) break;
        const length = pending.readInt32BE(started ? 1 : 0) + (started ? 1 : 0);
        if (pending.length < length) break;
        if (started && (pending[0] === 0x51 || pending[0] === 0x53)) this.count++;
        started = true;
        pending = pending.subarray(length);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.silent) client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
  }
}

/** The system Python, where Debian installs tooz (not the `python3` first on PATH). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
const TOOZ_LOCK = fileURLToPath(new URL('./python/tooz_lock.py', import.meta.url));

/** Whether the system Python has tooz and psycopg2. */
export function hasPythonTooz(): boolean {
  return spawnSync(SYSTEM_PYTHON, ['-c', 'import tooz, psycopg2'], { timeout: 20_000 }).status === 0;
}

/** Python tooz tries the lock once (blocking=False) and lets it go. */
export function toozTryLock(url: string, name: string): boolean {
  const run = spawnSync(SYSTEM_PYTHON, [TOOZ_LOCK, url, name, 'try'], { encoding: 'utf8', timeout: 20_000 });
  if (run.status !== 0) throw new Error(`Python tooz failed: ${run.stderr}`);
  return run.stdout.trim() === 'true';
}

/** Python tooz takes the lock (blocking) and holds it until `release()`. */
export async function toozHoldLock(url: string, name: string): Promise<{ release(): Promise<void> }> {
  const child = spawn(SYSTEM_PYTHON, [TOOZ_LOCK, url, name, 'hold'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.value !== 'held') throw new Error(`Python tooz did not take the lock: ${String(first.value)}`);
  return {
    async release() {
      child.stdin.write('\n');
      await once(child, 'exit');
    },
  };
}
