/**
 * One worker process of the fault suite (docs/fault-suite.md):
 * several coordinators on one backend URL, each beating, running its
 * watchers, running for leadership of one group, and hammering a few locks
 * (exclusive and shared mixed). Everything each one believes and every call
 * it makes is appended to this process's history file as it happens
 * (`appendFileSync`: a SIGKILL loses nothing already recorded).
 *
 * Compiled by SWC into the directory of the compiled lib (workload.ts), where
 * `../../lib/` becomes `./lib/`. Driven over IPC: `status` answers what it
 * holds and leads; `stop` stops every coordinator, answers and exits.
 */
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Coordinator, getCoordinator, type Lock } from '../../lib/core-entry.js';
import type { HistoryRecord } from './history.js';

export interface WorkerConfig {
  url: string;
  members: string[];
  group: string;
  locks: string[];
  /** The share of acquires that ask for a shared hold. */
  sharedRatio: number;
  /** How long a critical section lasts, at random between the two. */
  holdMs: [number, number];
  acquireTimeoutMs: number;
  /** The bound of one call that takes no timeout of its own (the driver's command timeout). */
  callBoundMs: number;
  /** Where this process appends its history. */
  history: string;
}

export interface WorkerStatus {
  pid: number;
  /** Member → the locks it believes it holds, and whether it leads the group. */
  members: Record<string, { holds: string[]; leads: boolean }>;
}

const config = JSON.parse(process.argv[2]) as WorkerConfig;
const now = () => performance.timeOrigin + performance.now();
const record = (entry: HistoryRecord) => appendFileSync(config.history, JSON.stringify(entry) + '\n');
let stopping = false;
let ids = 0;
const nextId = () => `${process.pid}:${++ids}`;

/** Run `call`, recording it with its bound and outcome; rejects as `call` does. */
async function timed<T>(member: string, op: string, timeoutMs: number | null, call: () => Promise<T>, lock?: string) {
  const start = now();
  let outcome = 'pending';
  try {
    const value = await call();
    outcome = typeof value === 'boolean' ? String(value) : 'ok';
    return value;
  } catch (error) {
    outcome = `error: ${(error as Error)?.constructor?.name ?? 'Error'}: ${String((error as Error)?.message ?? error).slice(0, 160)}`;
    throw error;
  } finally {
    record({ t: 'op', op, member, pid: process.pid, start, end: now(), timeoutMs, outcome, ...(lock ? { lock } : {}) });
  }
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];
const between = ([low, high]: [number, number]) => low + Math.random() * (high - low);

class Member {
  readonly coordinator: Coordinator;
  readonly locks = new Map<string, Lock>();
  /** The belief of the hold in progress, if any. */
  held: { id: string; lock: Lock } | undefined;
  leadership: string | undefined;
  private loops: Promise<void>[] = [];
  private lastElection = now();

  constructor(readonly id: string) {
    this.coordinator = getCoordinator(config.url, id);
  }

  lock(name: string): Lock {
    let lock = this.locks.get(name);
    if (!lock) this.locks.set(name, (lock = this.coordinator.getLock(name)));
    return lock;
  }

  loss(id: string | undefined, signal: string): void {
    if (id) record({ t: 'loss', id, at: now(), signal });
  }

  async start(): Promise<void> {
    const { coordinator } = this;
    coordinator.events$.subscribe((event) => {
      if (event.type === 'LockLost' && this.held?.lock.name === event.name) this.loss(this.held.id, 'LockLost');
      if (event.type === 'LeadershipLost' && event.groupId === config.group) this.leaderLost('LeadershipLost');
    });
    await timed(this.id, 'start', config.callBoundMs, () => coordinator.start());
    await timed(this.id, 'joinGroupCreate', config.callBoundMs, () => coordinator.joinGroupCreate(config.group));
    record({ t: 'joined', member: this.id, group: config.group, at: now() });
    await coordinator.watchElectedAsLeader(config.group, () => undefined);
    this.loops = [this.beats(), this.watchers(), this.leaderBelief(), this.hammer()];
  }

  private leaderLost(signal: string): void {
    if (!this.leadership) return;
    const id = this.leadership;
    this.leadership = undefined;
    this.loss(id, signal);
    record({ t: 'end', id, at: now(), how: 'lost' });
  }

  /** The heart, as the core's: beat, wait the interval the beat returned; one second after a failure. */
  private async beats(): Promise<void> {
    while (!stopping) {
      const next = await timed(this.id, 'heartbeat', config.callBoundMs, () => this.coordinator.heartbeat()).catch(
        () => 1_000,
      );
      await sleep(Math.min(next, 1_000));
    }
  }

  private async watchers(): Promise<void> {
    while (!stopping) {
      this.lastElection = now();
      const bound = config.callBoundMs;
      await timed(this.id, 'runWatchers', bound, () => this.coordinator.runWatchers(bound)).catch(() => undefined);
      await sleep(250);
    }
  }

  /** Leadership as this member believes it: `isLeaderOf()`, looked at every 10 ms, and `LeadershipLost`. */
  private async leaderBelief(): Promise<void> {
    while (!stopping) {
      const leads = this.coordinator.isLeaderOf(config.group);
      if (leads && !this.leadership) {
        this.leadership = nextId();
        const at = now();
        record({
          t: 'grant',
          id: this.leadership,
          lock: `leader:${config.group}`,
          mode: 'leader',
          token: null,
          member: this.id,
          pid: process.pid,
          requestedAt: Math.min(this.lastElection, at),
          at,
        });
      } else if (!leads && this.leadership) {
        this.leaderLost('isLeaderOf false');
      }
      await sleep(10);
    }
  }

  private async hammer(): Promise<void> {
    while (!stopping) {
      const name = pick(config.locks);
      const shared = Math.random() < config.sharedRatio;
      const lock = this.lock(name);
      const requestedAt = now();
      const timeoutMs = config.acquireTimeoutMs;
      // After giving up, the acquire withdraws from the queue: one more call.
      const bound = timeoutMs + config.callBoundMs;
      const won = await timed(this.id, 'acquire', bound, () => lock.acquire({ shared, timeoutMs }), name).catch(
        () => false,
      );
      if (!won || stopping) {
        if (won) await this.release(lock, undefined);
        await sleep(between([20, 100]));
        continue;
      }
      const id = nextId();
      this.held = { id, lock };
      const token = lock.fencingToken === null ? null : String(lock.fencingToken);
      const mode = shared ? 'shared' : 'exclusive';
      record({ t: 'grant', id, lock: name, mode, token, member: this.id, pid: process.pid, requestedAt, at: now() });
      const until = now() + between(config.holdMs);
      let lost = false;
      let asked = false;
      while (!lost && now() < until && !stopping) {
        if (!lock.isHeld) lost = true;
        else if (!asked && now() > until - (until - requestedAt) / 2) {
          asked = true;
          const owner = await timed(this.id, 'isStillOwner', config.callBoundMs, () => lock.isStillOwner(), name).catch(
            () => true, // unknown: the library still says isHeld, and that is what is believed
          );
          if (!owner) lost = true;
        } else await sleep(10);
      }
      if (lost) {
        this.loss(id, lock.isHeld ? 'isStillOwner false' : 'isHeld false');
        record({ t: 'end', id, at: now(), how: 'lost' });
        this.held = undefined;
        continue;
      }
      await this.release(lock, id);
      this.held = undefined;
    }
  }

  /**
   * Release; the belief ends when release is called. When the release fails
   * and the library still says the lock is held, that is believed until it
   * says otherwise (the release is tried again every 500 ms, bounded).
   */
  private async release(lock: Lock, id: string | undefined): Promise<void> {
    const at = now();
    try {
      await timed(this.id, 'release', config.callBoundMs, () => lock.release(), lock.name);
      if (id) record({ t: 'end', id, at, how: 'released' });
      return;
    } catch (error) {
      const releaseError = String((error as Error)?.message ?? error).slice(0, 160);
      for (let tries = 0; lock.isHeld && tries < 40; tries++) {
        await sleep(500);
        await timed(this.id, 'release', config.callBoundMs, () => lock.release(), lock.name).catch(() => false);
      }
      if (id) record({ t: 'end', id, at: now(), how: 'released', releaseError });
    }
  }

  async stop(): Promise<void> {
    await Promise.race([Promise.all(this.loops), sleep(config.acquireTimeoutMs + 2 * config.callBoundMs)]);
    const at = now();
    await timed(this.id, 'stop', config.callBoundMs, () => this.coordinator.stop()).catch(() => undefined);
    if (this.leadership) record({ t: 'end', id: this.leadership, at, how: 'stopped' });
    if (this.held) record({ t: 'end', id: this.held.id, at, how: 'stopped' });
    record({ t: 'left', member: this.id, group: config.group, at });
  }
}

const members = config.members.map((id) => new Member(id));
process.on('disconnect', () => process.exit(0));
process.on('message', async (message: { cmd: 'status' | 'stop' }) => {
  if (message.cmd === 'status') {
    const status: WorkerStatus = { pid: process.pid, members: {} };
    for (const member of members) {
      const holds = [...member.locks.values()].filter((lock) => lock.isHeld).map((lock) => lock.name);
      status.members[member.id] = { holds, leads: member.coordinator.isLeaderOf(config.group) };
    }
    process.send?.({ status });
  } else if (message.cmd === 'stop') {
    stopping = true;
    await Promise.all(members.map((member) => member.stop()));
    process.send?.({ stopped: true }, () => process.exit(0));
  }
});
try {
  for (const member of members) await member.start();
  process.send?.({ ready: true });
} catch (error) {
  process.send?.({ failed: String((error as Error)?.stack ?? error) });
  process.exit(1);
}
