import { WatchCallbackNotFoundError } from '../errors.js';

export type WatchKind = 'join' | 'leave' | 'elected';

/**
 * The callbacks registered per group and kind, and the last member set seen
 * for each watched group (the baseline `runWatchers()` diffs against).
 * Duplicates are allowed and each runs, as in tooz; removing takes the first.
 */
export class WatchRegistry {
  private readonly hooks: Record<WatchKind, Map<string, Function[]>> = {
    join: new Map(),
    leave: new Map(),
    elected: new Map(),
  };
  private readonly cachedMembers = new Map<string, Set<string>>();

  add(kind: WatchKind, groupId: string, callback: Function): void {
    const list = this.hooks[kind].get(groupId);
    if (list) list.push(callback);
    else this.hooks[kind].set(groupId, [callback]);
  }

  /** Removes the first registration; an empty list is dropped so the group stops being polled. */
  remove(kind: WatchKind, groupId: string, callback: Function): void {
    const list = this.hooks[kind].get(groupId);
    const index = list ? list.indexOf(callback) : -1;
    if (!list || index < 0) throw new WatchCallbackNotFoundError(groupId, callback);
    list.splice(index, 1);
    if (list.length === 0) {
      this.hooks[kind].delete(groupId);
      if (kind !== 'elected' && !this.isWatchingMembers(groupId)) this.cachedMembers.delete(groupId);
    }
  }

  callbacks(kind: WatchKind, groupId: string): readonly Function[] {
    return this.hooks[kind].get(groupId) ?? [];
  }

  count(kind: WatchKind, groupId: string): number {
    return this.hooks[kind].get(groupId)?.length ?? 0;
  }

  /** Groups with join or leave callbacks: the ones `runWatchers()` polls. */
  memberWatchedGroups(): string[] {
    return [...new Set([...this.hooks.join.keys(), ...this.hooks.leave.keys()])];
  }

  electionGroups(): string[] {
    return [...this.hooks.elected.keys()];
  }

  /** Whether any callback of any kind is registered for `groupId`. */
  isWatched(groupId: string): boolean {
    return this.isWatchingMembers(groupId) || this.hooks.elected.has(groupId);
  }

  /** Every group with a callback of any kind: what the backend is asked to push changes of. */
  watchedGroups(): Set<string> {
    return new Set([...this.hooks.join.keys(), ...this.hooks.leave.keys(), ...this.hooks.elected.keys()]);
  }

  isWatchingMembers(groupId: string): boolean {
    return this.hooks.join.has(groupId) || this.hooks.leave.has(groupId);
  }

  hasBaseline(groupId: string): boolean {
    return this.cachedMembers.has(groupId);
  }

  setBaseline(groupId: string, members: Set<string>): void {
    this.cachedMembers.set(groupId, members);
  }

  /**
   * Run every callback registered for `event`, in registration order, and
   * return their (awaited) values. One that throws does not stop the rest;
   * the first error is rethrown after all ran.
   */
  async run(kind: WatchKind, groupId: string, event: unknown): Promise<unknown[]> {
    const results: unknown[] = [];
    let failure: { error: unknown } | undefined;
    for (const callback of [...this.callbacks(kind, groupId)]) {
      try {
        results.push(await callback(event));
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
    return results;
  }

  /** Members that arrived and left since the baseline; the caller stores `current` once delivered. */
  diff(groupId: string, current: Set<string>): { joined: string[]; left: string[] } {
    const previous = this.cachedMembers.get(groupId) ?? new Set<string>();
    return {
      joined: [...current].filter((m) => !previous.has(m)),
      left: [...previous].filter((m) => !current.has(m)),
    };
  }
}
