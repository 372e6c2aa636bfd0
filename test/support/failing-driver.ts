/**
 * A backend that fails on demand, for tests of what happens when the backend
 * errors or stops answering, without mocking the coordinator: the `failing://`
 * scheme builds a `MemoryCoordinator` subclass (as a network driver subclasses
 * `Coordinator`) whose `backend*` calls a test can make hang or throw. Only the
 * backend misbehaves; everything above it is the real code.
 *
 *   const url = failingUrl({ lock_timeout: 0.1 }); // a fresh backend
 *   …start an app or a coordinator on `url`…
 *   failing(app.get(Coordinator)).fail('backendHeartbeat', new Error('backend down'));
 */
import { MemoryCoordinator } from '../../lib/drivers/memory/index.js';
import { type Coordinator, registerDriver } from '../../lib/index.js';
import { type DriverUnderTest, uid, withQuery } from './drivers.js';

export const FAILING_SCHEME = 'failing';

/** The backend calls a test can make misbehave. */
export type BackendCall =
  'backendHeartbeat' | 'backendGetGroups' | 'backendGetMembers' | 'backendJoinGroup' | 'backendLeaveGroup';

type Plan = { kind: 'hang' } | { kind: 'fail'; error: unknown; remaining: number };

/** The memory driver, with backend calls that can be told to hang or throw. */
export class FailingCoordinator extends MemoryCoordinator {
  private readonly plans = new Map<BackendCall, Plan>();
  private readonly counts = new Map<BackendCall, number>();

  /** From now on `call` never settles, as on a backend that stopped answering. */
  hang(call: BackendCall): void {
    this.plans.set(call, { kind: 'hang' });
    this.counts.set(call, 0);
  }

  /** The next `times` calls of `call` reject with `error`; later ones reach the backend again. */
  fail(call: BackendCall, error: unknown, times = 1): void {
    this.plans.set(call, { kind: 'fail', error, remaining: times });
    this.counts.set(call, 0);
  }

  /** How many times `call` was made since it was last told to hang or fail (or since construction). */
  calls(call: BackendCall): number {
    return this.counts.get(call) ?? 0;
  }

  /** Every later call reaches the backend again (calls already hung stay hung). */
  heal(): void {
    this.plans.clear();
  }

  protected override backendHeartbeat(): Promise<void> {
    return this.through('backendHeartbeat', () => super.backendHeartbeat());
  }

  protected override backendGetGroups(): Promise<string[]> {
    return this.through('backendGetGroups', () => super.backendGetGroups());
  }

  protected override backendGetMembers(groupId: string): Promise<Set<string>> {
    return this.through('backendGetMembers', () => super.backendGetMembers(groupId));
  }

  protected override backendJoinGroup(groupId: string, capabilities: Uint8Array): Promise<void> {
    return this.through('backendJoinGroup', () => super.backendJoinGroup(groupId, capabilities));
  }

  protected override backendLeaveGroup(groupId: string): Promise<void> {
    return this.through('backendLeaveGroup', () => super.backendLeaveGroup(groupId));
  }

  private through<T>(call: BackendCall, backend: () => Promise<T>): Promise<T> {
    this.counts.set(call, this.calls(call) + 1);
    const plan = this.plans.get(call);
    if (plan?.kind === 'hang') return new Promise<T>(() => undefined);
    if (plan?.kind === 'fail') {
      if (--plan.remaining <= 0) this.plans.delete(call);
      return Promise.reject(plan.error);
    }
    return backend();
  }
}

registerDriver(
  FAILING_SCHEME,
  (url, memberId, options) =>
    new FailingCoordinator(new URL(url.href.replace(/^[^:]+:/, 'memory:')), memberId, options),
);

/** A fresh `failing://` backend (a memory:// one underneath), with query options. */
export function failingUrl(query: Record<string, string | number> = {}): string {
  return withQuery(`${FAILING_SCHEME}://${uid('failing')}`, query);
}

/** The failing backend as a driver, for helpers that take one (`testBackend`). */
export const failingDriver: DriverUnderTest = {
  name: 'failing memory',
  url: `${FAILING_SCHEME}://shared`,
  crossProcess: false,
  isolatedUrl: () => failingUrl(),
};

/** `coordinator` as the `FailingCoordinator` it is; throws if it came from another driver. */
export function failing(coordinator: Coordinator): FailingCoordinator {
  if (!(coordinator instanceof FailingCoordinator)) {
    throw new TypeError(`Coordinator ${coordinator.memberId} is not on a ${FAILING_SCHEME}:// backend`);
  }
  return coordinator;
}
