/**
 * A driver port (`Backend`) that misbehaves on demand, wrapped around a real
 * one: calls that hang, fail or are slow, pushes that go missing, a
 * connection that drops and comes back. Everything above it (the whole core)
 * is the real code, and everything below it is a real backend: this is how
 * the tests show what a slow or failing network does, without a network.
 */
import type { Backend, BackendEvents } from '../../lib/core/backend.js';

/** The port's operations a test can make misbehave. */
export type PortCall = {
  [K in keyof Backend]-?: Backend[K] extends ((...args: never[]) => unknown) | undefined ? K : never;
}[keyof Backend];

/** The names of the old per-item driver methods, still accepted. */
const LEGACY: Record<string, PortCall> = {
  backendHeartbeat: 'beat',
  backendGetGroups: 'getGroups',
  backendGetMembers: 'getMembers',
  backendJoinGroup: 'joinGroup',
  backendLeaveGroup: 'leaveGroup',
};

type Plan =
  | { kind: 'hang' }
  | { kind: 'fail'; error: unknown; remaining: number }
  | { kind: 'fail-after'; error: unknown; remaining: number };

/** An error the faulty backend calls a lost connection, as a network client's would be. */
export class ConnectionDropped extends Error {
  readonly code = 'ECONNRESET';
}

export class FaultyBackend {
  /** The wrapped port, to hand to `Coordinator`. */
  readonly backend: Backend;
  /** Added before every call (and every push) reaches the real backend. */
  latencyMs = 0;
  private readonly plans = new Map<PortCall, Plan>();
  private readonly counts = new Map<PortCall, number>();
  private readonly hooks = new Map<PortCall, (...args: never[]) => unknown>();
  private readonly afterHooks = new Map<PortCall, (...args: never[]) => unknown>();
  private events: BackendEvents | undefined;
  private dropPushes = 0;
  private droppedPushes = 0;
  private connected = true;
  /** Pushes the test asked to swallow, by kind. */
  readonly missed: string[] = [];

  constructor(
    readonly inner: Backend,
    options: { membershipPushes?: { fallbackMs: number } } = {},
  ) {
    const faulty = this;
    this.backend = new Proxy(inner, {
      get(target, property, receiver) {
        if (property === 'membershipPushes' && options.membershipPushes) return options.membershipPushes;
        if (property === 'isConnectionError') return (error: unknown) => faulty.isConnectionError(error);
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        // Classifying an error is no backend call: it stays synchronous and never fails.
        if (property === 'isTimeoutError' || property === 'isServerError')
          return (error: unknown) => (value as (e: unknown) => boolean).call(target, error);
        const call = property as PortCall;
        return (...args: unknown[]) =>
          faulty.through(call, args, () => {
            if (call === 'connect') args[0] = faulty.wrapEvents(args[0] as BackendEvents);
            return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          });
      },
    });
  }

  /** From now on `call` never settles, as on a backend that stopped answering. */
  hang(call: PortCall | string): void {
    this.plan(call, { kind: 'hang' });
  }

  /** The next `times` calls of `call` reject with `error` without reaching the backend. */
  fail(call: PortCall | string, error: unknown, times = 1): void {
    this.plan(call, { kind: 'fail', error, remaining: times });
  }

  /** The next `times` calls of `call` reach the backend, then reject with `error`: cut half way, the answer lost. */
  failAfter(call: PortCall | string, error: unknown, times = 1): void {
    this.plan(call, { kind: 'fail-after', error, remaining: times });
  }

  /** Run `hook` (awaited, with the call's arguments) just before each later `call` reaches the backend. */
  before<A extends unknown[]>(call: PortCall | string, hook: (...args: A) => unknown): void {
    this.hooks.set(this.name(call), hook as (...args: never[]) => unknown);
  }

  /** Run `hook` (awaited) after each later `call` answered, before the core sees the answer. */
  after<A extends unknown[]>(call: PortCall | string, hook: (...args: A) => unknown): void {
    this.afterHooks.set(this.name(call), hook as (...args: never[]) => unknown);
  }

  /** How many times `call` was made since it was last planned (or since construction). */
  calls(call: PortCall | string): number {
    return this.counts.get(this.name(call)) ?? 0;
  }

  /** Every later call reaches the backend again (calls already hung stay hung). */
  heal(): void {
    this.plans.clear();
    this.hooks.clear();
    this.afterHooks.clear();
  }

  /** Swallow the next `count` pushes from the backend (a missed pub/sub message). */
  missPushes(count = Infinity): void {
    this.dropPushes = count;
    this.droppedPushes = 0;
  }

  /** The connection drops: the core hears `connectionLost`, and every call fails until `reconnect()`. */
  dropConnection(): void {
    this.connected = false;
    this.events?.connectionLost(new ConnectionDropped('connection reset'));
  }

  /** The connection is back: the core hears `connectionRestored`. */
  reconnect(): void {
    this.connected = true;
    this.events?.connectionRestored();
  }

  private isConnectionError(error: unknown): boolean {
    return error instanceof ConnectionDropped || (this.inner.isConnectionError?.(error) ?? false);
  }

  private name(call: PortCall | string): PortCall {
    return LEGACY[call] ?? (call as PortCall);
  }

  private plan(call: PortCall | string, plan: Plan): void {
    this.plans.set(this.name(call), plan);
    this.counts.set(this.name(call), 0);
  }

  private async through<T>(call: PortCall, args: unknown[], backend: () => Promise<T>): Promise<T> {
    this.counts.set(call, this.calls(call) + 1);
    const plan = this.plans.get(call);
    if (plan?.kind === 'hang') return new Promise<T>(() => undefined);
    if (plan?.kind === 'fail') {
      if (--plan.remaining <= 0) this.plans.delete(call);
      throw plan.error;
    }
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (!this.connected && call !== 'connect') throw new ConnectionDropped(`${call}: connection reset`);
    await (this.hooks.get(call) as ((...a: unknown[]) => unknown) | undefined)?.(...args);
    const result = await backend();
    await (this.afterHooks.get(call) as ((...a: unknown[]) => unknown) | undefined)?.(...args);
    if (plan?.kind === 'fail-after') {
      if (--plan.remaining <= 0) this.plans.delete(call);
      throw plan.error;
    }
    return result;
  }

  /** The core's event sink, with pushes that can go missing. */
  private wrapEvents(events: BackendEvents): BackendEvents {
    this.events = events;
    const push =
      <A extends unknown[]>(kind: string, deliver: (...args: A) => void) =>
      (...args: A) => {
        if (this.droppedPushes < this.dropPushes) {
          this.droppedPushes++;
          this.missed.push(kind);
          return;
        }
        deliver(...args);
      };
    return {
      connectionLost: (reason) => events.connectionLost(reason),
      connectionRestored: () => events.connectionRestored(),
      membersChanged: push('membersChanged', (groupId: string) => events.membersChanged(groupId)),
      leaderGone: push('leaderGone', (groupId: string) => events.leaderGone(groupId)),
      leadershipLost: push('leadershipLost', (groupId: string) => events.leadershipLost(groupId)),
      holdLost: push('holdLost', (holder: string) => events.holdLost(holder)),
      // Named 'granted' as before: the push that tells a waiter it may have been granted.
      mayBeGranted: push('granted', (holders?: readonly string[]) => events.mayBeGranted(holders)),
    };
  }
}
