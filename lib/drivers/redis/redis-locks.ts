import { performance } from 'node:perf_hooks';
import type { ChainableCommander, Redis } from 'ioredis';
import type { BackendEvents, Grant, HoldRef, LockRequest } from '../../core/backend.js';
import { runAcknowledged, SessionUnsubscribed } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import {
  acquireScript,
  breakScript,
  confirmScript,
  heldScript,
  releaseScript,
  waitingScript,
  withdrawScript,
} from './scripts/index.js';

export const flag = (shared: boolean): string => (shared ? '1' : '0');

/** A lock script's answer: a fencing token, queued (with ms until the current hold expires), or nothing. */
export type LockAnswer = { token: number } | { queuedFor: number } | null;

/** The scripts' answer when the caller's own session channel has no subscriber: nothing was granted. */
const UNSUBSCRIBED = -2;

export function lockAnswer(reply: unknown): LockAnswer {
  if (Array.isArray(reply)) return { queuedFor: Number(reply[1]) };
  if (reply === UNSUBSCRIBED) throw new SessionUnsubscribed('Redis saw no subscriber on this session channel');
  const token = Number(reply);
  return token > 0 ? { token } : null;
}

/** How often a queued waiter looks whether the holder ahead of it died (its lease may be long). */
const DEAD_HOLDER_CHECK_MS = 1_000;

/** What the lock side needs from its driver. */
export interface RedisLockHost {
  readonly keys: RedisKeys;
  readonly leaseMs: number;
  readonly beatIntervalMs: number;
  /** This session's channel: grants are published there. */
  readonly channel: string;
  /** Replicas that must acknowledge a grant (`WAIT`); 0 for none. */
  readonly replicas: number;
  readonly waitTimeoutMs: number;
  readonly connected: boolean;
  /** Both connections up and the session channel's subscription confirmed: only then is anything granted. */
  readonly granting: boolean;
  client(): Redis;
  events(): BackendEvents | undefined;
}

/**
 * The lock half of the Redis driver: acquire (queueing in Redis when asked
 * to wait), the grant pushed on this session's channel, one wake timer per
 * waiter at the expiry of the hold ahead of it, withdraw, release, break.
 */
export class RedisLocks {
  /** Queued requests waiting for their grant push, by holder. */
  private readonly queued = new Map<string, HoldRef>();
  /** One timer per queued request, at the current hold's expiry: a holder that dies never releases. */
  private readonly wakes = new Map<string, NodeJS.Timeout>();

  constructor(private readonly host: RedisLockHost) {}

  /** Forget every waiter (the session ends). */
  clear(): void {
    for (const holder of [...this.queued.keys()]) this.forget(holder);
  }

  async acquire(request: LockRequest): Promise<Grant | 'queued' | null> {
    const ref: HoldRef = { name: request.name, holder: request.holder, shared: request.shared };
    if (!this.host.granting) {
      throw new SessionUnsubscribed(`acquire lock ${ref.name}: a connection is down or not subscribed again yet`);
    }
    // Known before the request goes out: its grant may be pushed before the answer arrives.
    if (request.wait) this.queued.set(ref.holder, ref);
    let answer: LockAnswer;
    try {
      answer = await this.take(ref, request.wait);
    } catch (error) {
      this.forget(ref.holder);
      throw error;
    }
    if (answer !== null && 'queuedFor' in answer) {
      this.wakeAt(ref, answer.queuedFor);
      return 'queued';
    }
    this.forget(ref.holder);
    return answer === null ? null : this.grant(answer.token);
  }

  /** One round trip, with `WAIT` in the same pipeline when replicas exist (a grant is then acknowledged). */
  private async take(ref: HoldRef, wait: boolean): Promise<LockAnswer> {
    const keys = this.host.keys.lockFamily(ref.name);
    const args = [
      ref.holder,
      flag(ref.shared),
      this.host.leaseMs,
      wait ? '1' : '0',
      this.host.leaseMs,
      this.host.channel,
    ];
    const reply = await runAcknowledged(
      this.host.client(),
      this.host.replicas,
      this.host.waitTimeoutMs,
      (target) => acquireScript.run(target, keys, args),
      `acquire lock ${ref.name}`,
      async (answer) => Number(answer) > 0 && this.lockCall(this.host.client(), releaseScript, ref),
    );
    try {
      return lockAnswer(reply);
    } catch (error) {
      if (error instanceof SessionUnsubscribed) error.message = `acquire lock ${ref.name}: ${error.message}`;
      throw error;
    }
  }

  /**
   * Look again when the current hold expires, and at least every second: a
   * holder that died never releases, and Redis tells nobody that a
   * connection closed, so a waiter asks (one script, which frees the lock of
   * a holder whose session channel lost its subscriber and hands it on).
   * Releases and grants still arrive at once, by push; this only bounds how
   * long a crashed holder can keep its waiters.
   */
  wakeAt(ref: HoldRef, holdExpiresInMs: number): void {
    clearTimeout(this.wakes.get(ref.holder));
    const untilExpiry = holdExpiresInMs >= 0 ? holdExpiresInMs + 2 : this.host.leaseMs;
    const timer = setTimeout(() => void this.wake(ref), Math.min(untilExpiry, DEAD_HOLDER_CHECK_MS));
    timer.unref();
    this.wakes.set(ref.holder, timer);
  }

  private async wake(ref: HoldRef): Promise<void> {
    this.wakes.delete(ref.holder);
    if (!this.queued.has(ref.holder) || !this.host.connected) return;
    const since = performance.now();
    try {
      const answer = lockAnswer(
        await waitingScript.run(this.host.client(), this.host.keys.lockFamily(ref.name), [
          ref.holder,
          flag(ref.shared),
          this.host.leaseMs,
          this.host.leaseMs,
        ]),
      );
      if (!this.queued.has(ref.holder)) return; // withdrawn meanwhile: the withdrawal hands any grant back
      if (answer === null) await this.requeue(ref);
      else if ('queuedFor' in answer) this.wakeAt(ref, answer.queuedFor);
      else {
        this.forget(ref.holder);
        this.host.events()?.granted(ref, this.grant(answer.token), since);
      }
    } catch {
      this.wakeAt(ref, this.host.beatIntervalMs); // and the beat looks too
    }
  }

  /** A grant pushed on our channel: confirm it (renewing its lease from now) and hand it to the core. */
  async granted(holder: string): Promise<void> {
    const ref = this.queued.get(holder);
    if (!ref) return; // withdrawn meanwhile: the withdrawal hands the grant back
    // Not confirmed while unsubscribed (the grant stays ours in Redis): the beat after reconnecting confirms it.
    if (!this.host.granting) return;
    const since = performance.now();
    try {
      const token = Number(
        await runAcknowledged(
          this.host.client(),
          this.host.replicas,
          this.host.waitTimeoutMs,
          (target) => this.lockCall(target, confirmScript, ref),
          `acquire lock ${ref.name}`,
          async (answer) => Number(answer) > 0 && this.lockCall(this.host.client(), releaseScript, ref),
        ),
      );
      if (!this.queued.has(holder)) return; // withdrawn while confirming: the withdrawal handed it back
      if (token === UNSUBSCRIBED) return; // Redis dropped our subscriber meanwhile: as above
      if (token > 0) {
        this.forget(holder);
        this.host.events()?.granted(ref, this.grant(token), since);
      } else await this.requeue(ref);
    } catch {
      // Still queued: the next beat (or the wake timer) finds the grant.
    }
  }

  /** The request lost its place (its grant lapsed before it was confirmed): queue again. */
  async requeue(ref: HoldRef): Promise<void> {
    // Only while the core still waits: a withdrawn request must not come back.
    if (!this.queued.has(ref.holder)) return;
    try {
      const since = performance.now();
      const answer = await this.acquire({ ...ref, wait: true });
      if (answer !== null && answer !== 'queued') this.host.events()?.granted(ref, answer, since);
    } catch {
      // The next beat reports the waiter again.
    }
  }

  /** No longer waiting for a grant. */
  forget(holder: string): void {
    this.queued.delete(holder);
    clearTimeout(this.wakes.get(holder));
    this.wakes.delete(holder);
  }

  async withdraw(ref: HoldRef): Promise<Grant | null> {
    this.forget(ref.holder);
    const token = Number(await this.lockCall(this.host.client(), withdrawScript, ref));
    return token > 0 ? this.grant(token) : null;
  }

  async release(ref: HoldRef): Promise<boolean> {
    return (await this.lockCall(this.host.client(), releaseScript, ref)) === 1;
  }

  async isHeld(ref: HoldRef): Promise<boolean> {
    return (await this.lockCall(this.host.client(), heldScript, ref)) === 1;
  }

  async breakLock(name: string): Promise<boolean> {
    return (
      (await breakScript.run(this.host.client(), this.host.keys.lockFamily(name), ['', '0', this.host.leaseMs])) === 1
    );
  }

  lockCall(client: Redis | ChainableCommander, script: typeof releaseScript, ref: HoldRef): Promise<unknown> {
    return script.run(client, this.host.keys.lockFamily(ref.name), [ref.holder, flag(ref.shared), this.host.leaseMs]);
  }

  grant(token: number): Grant {
    return { fence: BigInt(token), leaseMs: this.host.leaseMs };
  }
}
