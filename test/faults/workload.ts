/**
 * The fault suite's workload (docs/fault-suite.md): worker
 * processes (worker.ts) × coordinators on one backend, the test's own
 * records (faults, kills, members reads, the final check of every lock) in
 * one history, and the verdict of the checker over all of it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { transformFile } from '@swc/core';
import { type Coordinator, getCoordinator } from '../../lib/index.js';
import type { CompiledLib } from '../support/compiled-lib.js';
import { checkHistory, type HistoryRecord, parseHistory, verdict, type Violation } from './history.js';
import type { WorkerConfig, WorkerStatus } from './worker.js';

export const now = () => performance.timeOrigin + performance.now();

/** Seconds of work per scenario: `npm run faults -- --duration 60` is the soak (run.mjs sets the variable). */
export const DURATION_MS = Number(process.env.FAULTS_DURATION_S ?? 6) * 1000;
/** Allowed on top of every bound: four agents share two cores here. */
export const SLACK_MS = 1_500;

const workerScripts = new WeakMap<CompiledLib, Promise<string>>();

/** worker.ts compiled beside the compiled lib (its `../../lib/` imports become `./lib/`). */
function workerScript(lib: CompiledLib): Promise<string> {
  let script = workerScripts.get(lib);
  if (!script) {
    script = transformFile(join(import.meta.dirname, 'worker.ts'), {
      swcrc: false,
      configFile: false,
      module: { type: 'es6' },
      jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    }).then(({ code }) => lib.script('fault-worker.mjs', code.replaceAll('../../lib/', './lib/')));
    workerScripts.set(lib, script);
  }
  return script;
}

export interface WorkloadOptions {
  scenario: string;
  url: string;
  /** Where the test's own observer reads members and tries the locks at the end (default: `url`). */
  observerUrl?: string;
  processes: number;
  membersPerProcess: number;
  locks: string[];
  beatMs: number;
  /** The driver's bound of one call (its command timeout). */
  callBoundMs: number;
  sharedRatio?: number;
  holdMs?: [number, number];
  acquireTimeoutMs?: number;
}

interface Worker {
  child: ChildProcess;
  members: string[];
  exited: Promise<unknown>;
}

export class Workload {
  readonly dir = mkdtempSync(join(tmpdir(), 'nc-faults-history-'));
  private readonly own = join(this.dir, 'test.jsonl');
  private readonly workers: Worker[] = [];
  private observer: Coordinator | undefined;
  readonly group = `g-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  private constructor(readonly options: WorkloadOptions) {}

  static async start(lib: CompiledLib, options: WorkloadOptions): Promise<Workload> {
    const workload = new Workload(options);
    workload.record({ t: 'meta', scenario: options.scenario, start: now(), beatMs: options.beatMs, slackMs: SLACK_MS });
    const script = await workerScript(lib);
    for (let p = 0; p < options.processes; p++) {
      const members = Array.from({ length: options.membersPerProcess }, (_, m) => `w${p}m${m}-${workload.group}`);
      const config: WorkerConfig = {
        url: options.url,
        members,
        group: workload.group,
        locks: options.locks,
        sharedRatio: options.sharedRatio ?? 0.3,
        holdMs: options.holdMs ?? [5, 60],
        acquireTimeoutMs: options.acquireTimeoutMs ?? 2_000,
        callBoundMs: options.callBoundMs,
        history: join(workload.dir, `worker-${p}.jsonl`),
      };
      const child = spawn(process.execPath, [script, JSON.stringify(config)], {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      child.stderr!.on('data', () => undefined);
      const worker: Worker = { child, members, exited: once(child, 'exit') };
      workload.workers.push(worker);
      const [message] = (await Promise.race([once(child, 'message'), worker.exited])) as [{ failed?: string }];
      if (!message || message.failed) throw new Error(`worker ${p} did not start: ${message?.failed ?? 'exited'}`);
    }
    return workload;
  }

  record(entry: HistoryRecord): void {
    appendFileSync(this.own, JSON.stringify(entry) + '\n');
  }

  /** Run `fault` between two records of its time span. */
  async fault(name: string, fault: () => Promise<void>): Promise<void> {
    const start = now();
    try {
      await fault();
    } finally {
      this.record({ t: 'fault', name, start, end: now() });
    }
  }

  async status(): Promise<WorkerStatus[]> {
    const alive = this.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    return Promise.all(
      alive.map(async ({ child }) => {
        const reply = once(child, 'message') as Promise<[{ status: WorkerStatus }]>;
        child.send({ cmd: 'status' });
        return (await reply)[0].status;
      }),
    );
  }

  /** SIGKILL the worker with `pid`; its beliefs end now, its members are gone. */
  async kill(pid: number): Promise<void> {
    const worker = this.workers.find((w) => w.child.pid === pid)!;
    worker.child.kill('SIGKILL');
    this.record({ t: 'killed', pid, members: worker.members, at: now() });
    await worker.exited;
  }

  /** One beat and the slack after the faults, read the members (a few times, from a coordinator of the test's own). */
  async readMembers(): Promise<void> {
    await sleep(this.options.beatMs + SLACK_MS);
    this.observer ??= getCoordinator(this.options.observerUrl ?? this.options.url, `observer-${this.group}`);
    const deadline = now() + 2 * this.options.callBoundMs;
    while (!this.observer.isStarted && now() < deadline) await this.observer.start().catch(() => sleep(200));
    for (let read = 0; read < 3; read++) {
      const at = now();
      const read = await this.observer.getMembers(this.group).then(
        (set) => ({ members: [...set] }),
        (error: Error) => ({ members: [], error: `${error.name}: ${error.message}` }),
      );
      this.record({ t: 'members', group: this.group, at, ...read });
      await sleep(300);
    }
  }

  /** Stop every worker (bounded; one that does not stop is killed and its stop recorded as never returning). */
  async stop(): Promise<void> {
    const bound = (this.options.acquireTimeoutMs ?? 2_000) + 4 * this.options.callBoundMs + SLACK_MS;
    await Promise.all(
      this.workers
        .filter((w) => w.child.exitCode === null && w.child.signalCode === null)
        .map(async (worker) => {
          const start = now();
          worker.child.send({ cmd: 'stop' });
          const stopped = await Promise.race([worker.exited.then(() => true), sleep(bound).then(() => false)]);
          if (!stopped) {
            worker.child.kill('SIGKILL');
            for (const member of worker.members) {
              this.record({
                t: 'op',
                op: 'stop (worker)',
                member,
                pid: worker.child.pid!,
                start,
                end: null,
                timeoutMs: bound,
                outcome: 'killed',
              });
            }
            await worker.exited;
          }
        }),
    );
  }

  /** After every worker stopped: a fresh member must get each lock at once. */
  async checkLocksFree(): Promise<void> {
    if (!this.observer?.isStarted) {
      this.observer = getCoordinator(this.options.observerUrl ?? this.options.url, `observer-${this.group}`);
      await this.observer.start();
    }
    for (const name of this.options.locks) {
      const lock = this.observer.getLock(name);
      const free = await lock.acquire({ blocking: false }).catch(() => false);
      this.record({ t: 'final', lock: name, free, at: now() });
      if (free) await lock.release();
    }
    await this.observer.stop();
  }

  async history(): Promise<HistoryRecord[]> {
    const files = readdirSync(this.dir).filter((name) => name.endsWith('.jsonl'));
    const texts = await Promise.all(files.map((name) => readFile(join(this.dir, name), 'utf8')));
    return texts.flatMap((text) => parseHistory(text)).sort((a, b) => (a.t === 'meta' ? -1 : b.t === 'meta' ? 1 : 0));
  }

  /** The checker's verdict; the history is kept (its path in the verdict) when it broke a rule. */
  async verdict(): Promise<{ violations: Violation[]; text: string }> {
    const records = await this.history();
    const violations = checkHistory(records);
    let text = verdict(records, violations);
    if (violations.length > 0) {
      const merged = join(tmpdir(), `nc-faults-${this.options.scenario.replace(/\W+/g, '-')}-${process.pid}.jsonl`);
      appendFileSync(merged, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      text += `\nhistory kept in ${merged} (npm run faults:check -- ${merged})`;
    }
    return { violations, text };
  }

  /** Kill whatever still runs (by pid) and remove the history directory. */
  async dispose(): Promise<void> {
    for (const worker of this.workers) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) {
        worker.child.kill('SIGKILL');
        await worker.exited;
      }
    }
    if (this.observer?.isStarted) await this.observer.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * SIGKILL a worker whose coordinator holds a lock and leads the group (waits
 * up to 10 s for one), then wait for another member to lead; resolves with
 * how long that took.
 */
export async function killLeadingHolder(workload: Workload, withinMs: number): Promise<number> {
  const deadline = now() + 10_000;
  for (;;) {
    const victim = (await workload.status()).find((status) =>
      Object.values(status.members).some((member) => member.leads && member.holds.length > 0),
    );
    if (victim) {
      let killedAt = 0;
      await workload.fault('SIGKILL of a lock holder and leader', async () => {
        killedAt = now();
        await workload.kill(victim.pid);
      });
      for (;;) {
        const leads = (await workload.status()).some((status) => Object.values(status.members).some((m) => m.leads));
        if (leads) return now() - killedAt;
        if (now() - killedAt > withinMs) throw new Error(`nobody led within ${withinMs} ms of the leader's SIGKILL`);
        await sleep(10);
      }
    }
    if (now() > deadline) throw new Error('no worker both held a lock and led within 10 s');
    await sleep(20);
  }
}

/** Run the workload for the scenario's duration, `fault` once every `everyMs` from `warmMs` on (at least once). */
export async function repeatFaults(fault: () => Promise<void>, everyMs: number, warmMs = 1_500): Promise<void> {
  const end = now() + Math.max(DURATION_MS, warmMs + everyMs);
  await sleep(warmMs);
  do {
    const started = now();
    await fault();
    const rest = everyMs - (now() - started);
    if (now() + rest >= end) break;
    await sleep(Math.max(rest, 0));
  } while (now() < end);
}
