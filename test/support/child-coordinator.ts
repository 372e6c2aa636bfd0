/**
 * A coordinator in a separate Node process, driven from a test: a second
 * real process on the same backend (tooz's `ProcessPoolExecutor` tests), one
 * that can be killed with SIGKILL to show what a crash costs. The child runs
 * the compiled `lib/` (`compileLib()`), takes commands over Node's IPC
 * channel and answers each one; every event its coordinator delivers
 * (`events$`) is sent back as it happens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { CompiledLib } from './compiled-lib.js';

/** An event of the child's `events$`, as a plain object (`type` is the class name). */
export interface ChildEvent {
  type: 'MemberJoinedGroup' | 'MemberLeftGroup' | 'LeaderElected' | 'LeadershipLost' | 'LockLost';
  groupId?: string;
  memberId: string;
  name?: string;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface AcquireOptions {
  blocking?: boolean;
  shared?: boolean;
  timeoutMs?: number;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
type Message = Reply | { event: ChildEvent } | { ready: true } | { unhandled: string };

/**
 * The child's side. One lock handle per name (so `release(name)` releases
 * what `acquire(name)` took); `watchElectedAsLeader` and the watch commands
 * register a callback that returns the event's type, so `runWatchers()`
 * answers which callbacks ran.
 */
const CHILD_SOURCE = (coreEntry: string) => `
import { getCoordinator } from ${JSON.stringify(coreEntry)};

const [url, memberId, optionsJson] = process.argv.slice(2);
const coordinator = getCoordinator(url, memberId, JSON.parse(optionsJson));
const send = (message) => {
  if (process.connected) process.send(message);
};
// A child whose test went away goes too: nothing is left running on the backend.
process.on('disconnect', () => process.exit(0));
process.on('unhandledRejection', (reason) => send({ unhandled: String(reason?.stack ?? reason) }));
coordinator.events$.subscribe((event) => send({ event: { ...event } }));

const locks = new Map();
const lock = (name) => {
  if (!locks.has(name)) locks.set(name, coordinator.getLock(name));
  return locks.get(name);
};
const callback = (event) => event.type;
let watcherLoop;

const commands = {
  start: (options) => coordinator.start(options),
  stop: () => {
    clearInterval(watcherLoop);
    return coordinator.stop();
  },
  heartbeat: () => coordinator.heartbeat(),
  createGroup: (groupId) => coordinator.createGroup(groupId),
  joinGroup: (groupId, capabilities) => coordinator.joinGroup(groupId, capabilities),
  joinGroupCreate: (groupId, capabilities) => coordinator.joinGroupCreate(groupId, capabilities),
  leaveGroup: (groupId) => coordinator.leaveGroup(groupId),
  getMembers: async (groupId) => [...(await coordinator.getMembers(groupId))].sort(),
  getLeader: (groupId) => coordinator.getLeader(groupId),
  standDownGroupLeader: (groupId) => coordinator.standDownGroupLeader(groupId),
  watchElectedAsLeader: (groupId) => coordinator.watchElectedAsLeader(groupId, callback),
  watchJoinGroup: (groupId) => coordinator.watchJoinGroup(groupId, callback),
  watchLeaveGroup: (groupId) => coordinator.watchLeaveGroup(groupId, callback),
  runWatchers: (timeoutMs) => coordinator.runWatchers(timeoutMs),
  runWatchersEvery: (ms) => {
    clearInterval(watcherLoop);
    watcherLoop = setInterval(() => coordinator.runWatchers().catch(() => undefined), ms);
  },
  acquire: (name, options) => lock(name).acquire(options),
  release: (name) => lock(name).release(),
  isStillOwner: (name) => lock(name).isStillOwner(),
  fencingToken: (name) => lock(name).fencingToken,
};

process.on('message', async ({ id, command, args }) => {
  try {
    const value = await commands[command](...args);
    send({ id, ok: true, value });
  } catch (error) {
    send({ id, ok: false, error: String(error?.stack ?? error) });
  }
});
send({ ready: true });
`;

const scripts = new WeakMap<CompiledLib, Promise<string>>();
const running = new Set<ChildCoordinator>();

// Should the test process end without its clean-up, no child outlives it.
process.once('exit', () => {
  for (const coordinator of running) coordinator.child.kill('SIGKILL');
});

/** A coordinator in its own Node process; see `spawnChildCoordinator`. */
export class ChildCoordinator {
  /** Every event the child's coordinator delivered so far, in order. */
  readonly events: ChildEvent[] = [];
  /** Unhandled rejections the child saw (a test may assert there are none). */
  readonly unhandled: string[] = [];
  /** Resolves when the process has ended. */
  readonly exited: Promise<ChildExit>;
  private exit: ChildExit | undefined;
  private stderr = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly eventWaiters = new Set<() => void>();

  /** @internal use `spawnChildCoordinator`. */
  constructor(
    /** The Node process. */
    readonly child: ChildProcess,
    readonly memberId: string,
  ) {
    running.add(this);
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-8_000)));
    child.on('message', (message: Message) => this.onMessage(message));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.delete(this);
        this.exit = { code, signal };
        const gone = new Error(`child ${memberId} ended (${JSON.stringify(this.exit)})${this.output()}`);
        for (const { reject } of this.pending.values()) reject(gone);
        this.pending.clear();
        for (const wake of this.eventWaiters) wake();
        resolve(this.exit);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get isRunning(): boolean {
    return this.exit === undefined;
  }

  /** The child's stderr (its last 8 kB), for assertion messages. */
  output(): string {
    return this.stderr ? `\n--- child ${this.memberId} stderr ---\n${this.stderr}` : '';
  }

  private onMessage(message: Message): void {
    if ('event' in message) {
      this.events.push(message.event);
      for (const wake of this.eventWaiters) wake();
    } else if ('unhandled' in message) {
      this.unhandled.push(message.unhandled);
    } else if ('id' in message) {
      const call = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) call?.resolve(message.value);
      else call?.reject(new Error(`in child ${this.memberId}: ${message.error}`));
    }
  }

  /** Run one command in the child; rejects with the child's error (or when the child ends). */
  call<T = unknown>(command: string, ...args: unknown[]): Promise<T> {
    if (this.exit) return Promise.reject(new Error(`child ${this.memberId} has ended${this.output()}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, command, args });
    });
  }

  start(options: { startHeart?: boolean } = {}): Promise<void> {
    return this.call('start', options);
  }
  stop(): Promise<void> {
    return this.call('stop');
  }
  heartbeat(): Promise<number> {
    return this.call('heartbeat');
  }
  createGroup(groupId: string): Promise<void> {
    return this.call('createGroup', groupId);
  }
  joinGroup(groupId: string, capabilities?: unknown): Promise<void> {
    return this.call('joinGroup', groupId, capabilities);
  }
  joinGroupCreate(groupId: string, capabilities?: unknown): Promise<void> {
    return this.call('joinGroupCreate', groupId, capabilities);
  }
  leaveGroup(groupId: string): Promise<void> {
    return this.call('leaveGroup', groupId);
  }
  /** The members, sorted. */
  getMembers(groupId: string): Promise<string[]> {
    return this.call('getMembers', groupId);
  }
  getLeader(groupId: string): Promise<string | null> {
    return this.call('getLeader', groupId);
  }
  standDownGroupLeader(groupId: string): Promise<boolean> {
    return this.call('standDownGroupLeader', groupId);
  }
  watchElectedAsLeader(groupId: string): Promise<void> {
    return this.call('watchElectedAsLeader', groupId);
  }
  watchJoinGroup(groupId: string): Promise<void> {
    return this.call('watchJoinGroup', groupId);
  }
  watchLeaveGroup(groupId: string): Promise<void> {
    return this.call('watchLeaveGroup', groupId);
  }
  /** The types of the events whose callbacks ran (what the callbacks returned). */
  runWatchers(timeoutMs?: number): Promise<string[]> {
    return this.call('runWatchers', timeoutMs);
  }
  /** Run `runWatchers()` in the child every `ms` from now (as the Nest heart does), until `stop()`. */
  runWatchersEvery(ms: number): Promise<void> {
    return this.call('runWatchersEvery', ms);
  }
  /** `getLock(name).acquire(options)` on the child's one handle for `name`. */
  acquire(name: string, options: AcquireOptions = {}): Promise<boolean> {
    return this.call('acquire', name, options);
  }
  release(name: string): Promise<boolean> {
    return this.call('release', name);
  }
  isStillOwner(name: string): Promise<boolean> {
    return this.call('isStillOwner', name);
  }
  fencingToken(name: string): Promise<bigint | null> {
    return this.call('fencingToken', name);
  }

  /** The first event (already delivered or to come) matching `where`; rejects after `withinMs`. */
  async nextEvent(where: (event: ChildEvent) => boolean, withinMs = 5_000): Promise<ChildEvent> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const found = this.events.find(where);
      if (found) return found;
      if (this.exit) throw new Error(`child ${this.memberId} ended before the event${this.output()}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no matching event from child ${this.memberId} within ${withinMs} ms: ${JSON.stringify(this.events)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.eventWaiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.eventWaiters.add(wake);
      });
    }
  }

  /** Send `signal` (SIGKILL: a crash, nothing runs in the child) and wait for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ChildExit> {
    if (this.exit) return this.exit;
    this.child.kill(signal);
    return this.exited;
  }
}

/**
 * Start a Node process holding an (unstarted) coordinator for `url` and
 * `memberId`, on `lib` (compile it once per file with `compileLib()`).
 * Resolves once the child is ready for commands.
 */
export async function spawnChildCoordinator(
  lib: CompiledLib,
  url: string,
  memberId: string,
  options: Record<string, unknown> = {},
): Promise<ChildCoordinator> {
  let script = scripts.get(lib);
  if (!script) scripts.set(lib, (script = lib.script('child-coordinator.mjs', CHILD_SOURCE(lib.url('core-entry.js')))));
  const child = spawn(process.execPath, [await script, url, memberId, JSON.stringify(options)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // bigint fencing tokens and the events' plain objects cross as they are.
    serialization: 'advanced',
  });
  const coordinator = new ChildCoordinator(child, memberId);
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: Message) => {
      if (!('ready' in message)) return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    coordinator.exited.then((exit) =>
      reject(new Error(`child ${memberId} ended before it was ready (${JSON.stringify(exit)})${coordinator.output()}`)),
    );
  });
  return coordinator;
}

/** SIGKILL every child still running (call in `afterEach`/`afterAll`). */
export async function killChildCoordinators(): Promise<void> {
  await Promise.all([...running].map((child) => child.kill('SIGKILL')));
}
