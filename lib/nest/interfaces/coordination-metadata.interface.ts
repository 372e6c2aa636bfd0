/** What `@Leader()` records on a method. */
export interface LeaderMetadata {
  groupId: string;
}

/** Names the lock from the call's arguments, e.g. `(orderId: string) => \`order:${orderId}\``. */
// `any`: a factory typed `(id: string) => string` must fit, which `unknown[]` would refuse.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LockNameFactory = (...args: any[]) => string;

export interface WithLockOptions {
  /** Wait for the lock (default true); false tries once. */
  blocking?: boolean;
  /** With `blocking`, give up after this many ms (default: wait for ever). */
  timeoutMs?: number;
  /** Take a shared (reader) hold (default false). */
  shared?: boolean;
  /** When the lock cannot be had: `'throw'` (default) raises `LockAcquireFailedError`, `'skip'` resolves `undefined`. */
  onLocked?: 'throw' | 'skip';
}

/** What `@WithLock()` records on a method. */
export interface WithLockMetadata {
  name: string | LockNameFactory;
  options: Required<Omit<WithLockOptions, 'timeoutMs'>> & Pick<WithLockOptions, 'timeoutMs'>;
}

export type GroupEventKind = 'joined' | 'left' | 'elected';

/** What `@OnMemberJoined()`, `@OnMemberLeft()` and `@OnLeaderElected()` record (a method may carry several). */
export interface GroupEventMetadata {
  event: GroupEventKind;
  groupId: string;
}
