import type { ChainableCommander, Redis } from 'ioredis';
import type { Grant, HoldRef, LockRequest, WaiterState, Waiting } from '../../core/backend.js';
import { ReplicasBehind, runAcknowledged, SessionUnsubscribed } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import {
  acquireScript,
  breakScript,
  heldScript,
  releaseScript,
  waitingScript,
  withdrawScript,
} from './scripts/index.js';
import type { WaitingReply } from './scripts/lock-waiting.js';
import type { RedisScript } from './scripts/script.js';

export const flag = (shared: boolean): string => (shared ? '1' : '0');

/**
 * How often a queued waiter looks whether the holder ahead of it died (its
 * lease may be long): Redis tells nobody that a connection closed.
 */
export const DEAD_HOLDER_CHECK_MS = 1_000;

/** What the lock calls need from their driver, read at each call. */
export interface RedisLockContext {
  readonly keys: RedisKeys;
  readonly leaseMs: number;
  /** This session's channel: grants are published there. */
  readonly channel: string;
  /** Replicas that must acknowledge a grant (`WAIT`); 0 for none. */
  readonly replicas: number;
  readonly waitTimeoutMs: number;
  /** Both connections up and the session channel's subscription confirmed: only then is anything granted. */
  readonly granting: boolean;
  readonly client: Redis;
}

/**
 * The lock calls of the Redis driver, stateless: one script each (the core
 * keeps who waits, lib/core/lock-waiters.ts). Grants are published on the
 * waiter's session channel; the driver turns that into `mayBeGranted`.
 */
export const grantOf = (token: bigint, leaseMs: number): Grant => ({ fence: token, leaseMs });

/** One round trip, with `WAIT` in the same pipeline when replicas exist (a grant is then acknowledged). */
export async function acquire(at: RedisLockContext, request: LockRequest): Promise<Grant | Waiting | null> {
  const { name } = request;
  if (!at.granting) {
    throw new SessionUnsubscribed(`acquire lock ${name}: a connection is down or not subscribed again yet`);
  }
  const args = [request.holder, flag(request.shared), at.leaseMs, request.wait ? '1' : '0', at.leaseMs, at.channel];
  const reply = await runAcknowledged(
    at.client,
    at.replicas,
    at.waitTimeoutMs,
    (target) => acquireScript.run(target, at.keys.lockFamily(name), args),
    `acquire lock ${name}`,
    async (raw) => acquireScript.decode(raw).kind === 'granted' && lockCall(at, at.client, releaseScript, request),
  );
  const answer = acquireScript.decode(reply);
  switch (answer.kind) {
    case 'granted':
      return grantOf(answer.token, at.leaseMs);
    case 'queued':
      return { waiting: true, recheckMs: answer.recheckMs };
    case 'refused':
      return null;
    case 'unsubscribed':
      throw new SessionUnsubscribed(`acquire lock ${name}: Redis saw no subscriber on this session channel`);
  }
}

/** The waiting script for `ref` in `pipeline`: renews its place, serves the queue, confirms a grant. */
export function lookIn(at: RedisLockContext, pipeline: ChainableCommander, ref: HoldRef): void {
  waitingScript.run(pipeline, at.keys.lockFamily(ref.name), [ref.holder, flag(ref.shared), at.leaseMs, at.leaseMs]);
}

export function waiterState(at: RedisLockContext, reply: WaitingReply): WaiterState {
  if (reply.kind === 'granted') return grantOf(reply.token, at.leaseMs);
  return reply.kind === 'queued' ? { waiting: true, recheckMs: reply.recheckMs } : 'lapsed';
}

/**
 * Where each waiter stands, in one pipeline (acknowledged by `WAIT` when
 * replicas exist). Nothing is confirmed while the subscription is not
 * (docs/redis.md#failover): each still waits, and is looked at again.
 */
export async function look(at: RedisLockContext, refs: readonly HoldRef[]): Promise<Map<string, WaiterState>> {
  if (!at.granting) return new Map(refs.map((ref) => [ref.holder, { waiting: true }]));
  const pipeline = at.client.pipeline();
  for (const ref of refs) lookIn(at, pipeline, ref);
  if (at.replicas > 0) pipeline.wait(at.replicas, at.waitTimeoutMs);
  const results = (await pipeline.exec()) ?? [];
  const failure = results.find(([error]) => error !== null)?.[0];
  if (failure) throw failure;
  if (at.replicas > 0 && Number(results[refs.length]?.[1]) < at.replicas) {
    // Not believed: the grant stays ours in Redis, and the next look confirms it again.
    throw new ReplicasBehind(`look at ${refs.length} waiters: fewer than ${at.replicas} replicas acknowledged it`);
  }
  return new Map(refs.map((ref, i) => [ref.holder, waiterState(at, waitingScript.decode(results[i]?.[1]))]));
}

export async function withdraw(at: RedisLockContext, ref: HoldRef): Promise<Grant | null> {
  const token = withdrawScript.decode(await lockCall(at, at.client, withdrawScript, ref));
  return token === null ? null : grantOf(token, at.leaseMs);
}

export async function release(at: RedisLockContext, ref: HoldRef): Promise<boolean> {
  return releaseScript.decode(await lockCall(at, at.client, releaseScript, ref));
}

export async function isHeld(at: RedisLockContext, ref: HoldRef): Promise<boolean> {
  return heldScript.decode(await lockCall(at, at.client, heldScript, ref));
}

export function breakLock(at: RedisLockContext, name: string): Promise<boolean> {
  return breakScript.call(at.client, at.keys.lockFamily(name), ['', '0', at.leaseMs]);
}

/** A script that takes (holder, shared flag, lease) for `ref`, on a client or in a pipeline. */
export function lockCall(
  at: RedisLockContext,
  client: Redis | ChainableCommander,
  script: Pick<RedisScript, 'run'>,
  ref: HoldRef,
): Promise<unknown> {
  return script.run(client, at.keys.lockFamily(ref.name), [ref.holder, flag(ref.shared), at.leaseMs]);
}
