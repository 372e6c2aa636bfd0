import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';

// The README's first command after `npm install`: `npm start`, which is
// `nest start` (compile with tsconfig.sample.json into dist-sample/, then run
// the sample) on memory://. Only this spec may run `nest start`: it deletes
// and rewrites dist-sample/.
const root = resolve(import.meta.dirname, '../..');
const STARTUP_MS = 90_000;
const SHUTDOWN_MS = 10_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Status {
  memberId: string;
  groups: string[];
  members: string[];
  leader: string | null;
  isLeader: boolean;
}

interface Items {
  group: string;
  owners: Record<string, string>;
  mine: string[];
}

/** Whether any process of the group is still there. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

describe('the sample app, started with `npm start`', () => {
  let child: ChildProcess;
  let pgid: number;
  let base: string;
  let output = '';
  let exit: Exit | undefined;
  let exited: Promise<Exit>;
  // Should the worker go away without running afterAll, the sample goes too.
  const killOnExit = () => pgid !== undefined && killGroup(pgid, 'SIGKILL');

  const log = () => `\n--- npm start output ---\n${output.slice(-8_000)}`;

  async function get<T>(path: string): Promise<T> {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });
    expect(response.status, `GET ${path}${log()}`).toBe(200);
    return (await response.json()) as T;
  }

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), NO_COLOR: '1' };
    delete env.COORDINATION_URL; // the README's default: memory://
    // Its own process group (detached), so npm, nest and the app can be signalled at once.
    child = spawn('npm', ['start'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    pgid = child.pid!;
    process.once('exit', killOnExit);
    exited = new Promise<Exit>((done) => child.once('exit', (code, signal) => done((exit = { code, signal }))));
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-64_000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);

    // nest start compiles first: poll until the app answers.
    const deadline = Date.now() + STARTUP_MS;
    for (;;) {
      if (exit) throw new Error(`npm start exited before answering (${JSON.stringify(exit)})${log()}`);
      try {
        const response = await fetch(`${base}/status`, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`GET ${base}/status did not answer within ${STARTUP_MS} ms${log()}`);
      await sleep(500);
    }
  }, STARTUP_MS + 30_000);

  afterAll(async () => {
    if (pgid === undefined) return;
    try {
      if (groupAlive(pgid)) {
        killGroup(pgid, 'SIGTERM');
        if (!(await waitUntil(() => !groupAlive(pgid), SHUTDOWN_MS))) killGroup(pgid, 'SIGKILL');
        await waitUntil(() => !groupAlive(pgid), 5_000);
      }
    } finally {
      process.off('exit', killOnExit);
    }
  }, SHUTDOWN_MS + 10_000);

  it('leads the sample group alone on memory://', async () => {
    const status = await get<Status>('/status');
    expect(status.memberId, log()).toEqual(expect.any(String));
    expect(status.memberId.length).toBeGreaterThan(0);
    expect(status.isLeader, `${JSON.stringify(status)}${log()}`).toBe(true);
    expect(status.leader).toBe(status.memberId);
    expect(status.members).toContain(status.memberId);
    expect(status.groups).toContain('sample-instances');
  });

  it('owns all 12 work items', async () => {
    const { memberId } = await get<Status>('/status');
    const items = await get<Items>('/items');
    const names = Array.from({ length: 12 }, (_, i) => `item-${i + 1}`);
    expect(Object.keys(items.owners).sort()).toEqual([...names].sort());
    for (const item of names) expect(items.owners[item], item).toBe(memberId);
    expect([...items.mine].sort()).toEqual([...names].sort());
  });

  it(
    'shuts down on SIGTERM within 10 s, leaving no process behind',
    async () => {
      killGroup(pgid, 'SIGTERM');
      const result = await Promise.race([exited, sleep(SHUTDOWN_MS).then(() => undefined)]);
      expect(result, `npm start still running ${SHUTDOWN_MS} ms after SIGTERM${log()}`).toBeDefined();
      expect(result!.code === 0 || result!.signal === 'SIGTERM', `exit ${JSON.stringify(result)}${log()}`).toBe(true);
      // nest and the app are in the group too: they must be gone as well.
      expect(await waitUntil(() => !groupAlive(pgid), 2_000), `processes left in group ${pgid}`).toBe(true);
    },
    SHUTDOWN_MS + 10_000,
  );
});
