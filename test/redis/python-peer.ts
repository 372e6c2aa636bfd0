/**
 * Drives `test/redis/python/tooz_peer.py`: one `/usr/bin/python3` process
 * running Debian's python3-tooz (3.1.0), answering one JSON request per line.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The system Python, where Debian installs tooz (not the `python3` first on PATH). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

const PEER = fileURLToPath(new URL('./python/tooz_peer.py', import.meta.url));

/** Whether the system Python imports tooz; the version it reports, or null. */
export function toozVersion(): string | null {
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import importlib.metadata as m, tooz; print(m.version("tooz"))'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

/** Capabilities as the peer takes them: JSON, with bytes tagged `{ $bytes: hex }`. */
export function pyBytes(bytes: Uint8Array): { $bytes: string } {
  return { $bytes: Buffer.from(bytes).toString('hex') };
}

export class PythonPeer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stderr = '';

  constructor() {
    this.child = spawn(SYSTEM_PYTHON, ['-u', PEER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-4_000)));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const answer = JSON.parse(line) as { id: number; ok?: unknown; error?: string };
      const waiter = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (answer.error !== undefined) waiter?.reject(new Error(`Python tooz: ${answer.error}`));
      else waiter?.resolve(answer.ok);
    });
    this.child.on('exit', (code, signal) => {
      for (const waiter of this.pending.values()) {
        waiter.reject(new Error(`Python peer exited (${code ?? signal}): ${this.stderr}`));
      }
      this.pending.clear();
    });
  }

  /** One request; rejects with Python's exception when it raised one. */
  call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
