/**
 * The Lua side of docs/redis.md#failover, script by script on a redis-server
 * of this test's own: a caller whose own session channel has no subscriber
 * on this node is granted, elected and renewed nothing; a holder is taken
 * over only once its channel had no subscriber for the grace, and only on
 * the node where its session subscribed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '../../lib/drivers/redis/redis-keys.js';
import {
  acquireScript,
  ALL_SCRIPTS,
  confirmScript,
  createGroupScript,
  electScript,
  refreshScript,
  registerSessionScript,
} from '../../lib/drivers/redis/scripts/index.js';
import { UNSUBSCRIBED_GRACE_MS } from '../../lib/drivers/redis/scripts/session-liveness.js';
import { uid } from '../support/drivers.js';
import { type OwnServer, OwnServers, redisServerAvailable } from './redis-servers.js';

const LEASE_MS = 30_000;
const session = () =>
  uid('')
    .replace(/[^0-9a-f]/g, '')
    .padEnd(32, '0')
    .slice(0, 32);

describe.runIf(redisServerAvailable() || Boolean(process.env.CI))('redis:// session checks in the scripts', () => {
  let servers: OwnServers;
  let server: OwnServer;
  let raw: Redis;
  let listener: Redis;

  beforeAll(async () => {
    servers = new OwnServers();
    server = await servers.redis();
    raw = new Redis({ port: server.port, host: '127.0.0.1' });
    for (const script of ALL_SCRIPTS) script.define(raw);
    listener = new Redis({ port: server.port, host: '127.0.0.1' });
  }, 20_000);
  afterAll(async () => {
    raw?.disconnect();
    listener?.disconnect();
    await servers?.stopAll();
  });

  /** A session whose channel `listener` subscribes to, recorded on this node as the beat records it. */
  async function liveSession(keys: RedisKeys): Promise<string> {
    const id = session();
    await listener.subscribe(keys.session(id));
    expect(await registerSessionScript.run(raw, [keys.sessionNode(id)], [keys.session(id), LEASE_MS])).toBe(1);
    return id;
  }

  const acquire = (keys: RedisKeys, name: string, holder: string, id: string) =>
    acquireScript.run(raw, keys.lockFamily(name), [holder, '0', LEASE_MS, '0', LEASE_MS, keys.session(id)]);

  it('refuse (-2) to grant, confirm, elect or renew for a caller whose own channel has no subscriber here', async () => {
    const keys = new RedisKeys(uid('ns'), 'current');
    const name = uid('lock');
    const groupId = uid('group');
    const nobody = session();
    expect(await acquire(keys, name, 'h1', nobody)).toBe(-2);
    expect(await raw.exists(keys.lock(name))).toBe(0);
    expect(await registerSessionScript.run(raw, [keys.sessionNode(nobody)], [keys.session(nobody), LEASE_MS])).toBe(0);

    await createGroupScript.run(raw, [keys.group(groupId), keys.groups], [groupId]);
    const elect = (id: string) =>
      electScript.run(
        raw,
        [keys.leader(groupId), keys.group(groupId)],
        [`${id}:m`, LEASE_MS, keys.sessionPrefix, keys.events(groupId)],
      );
    expect(await elect(nobody)).toBe(-2);
    expect(await raw.exists(keys.leader(groupId))).toBe(0);

    // Held while subscribed, then the subscriber goes: nothing is confirmed or renewed any more.
    const id = await liveSession(keys);
    expect(Number(await acquire(keys, name, 'h2', id))).toBeGreaterThan(0);
    expect(await elect(id)).toEqual([1]);
    await raw.pexpire(keys.lock(name), 5_000);
    await listener.unsubscribe(keys.session(id));
    expect(await confirmScript.run(raw, keys.lockFamily(name), ['h2', '0', LEASE_MS])).toBe(-2);
    const family = keys.lockFamily(name);
    expect(
      await refreshScript.run(raw, [family[0]!, family[3]!, family[4]!], [LEASE_MS, keys.session(id), 'h2', '0']),
    ).toEqual([0]);
    expect(await raw.pttl(keys.lock(name))).toBeLessThanOrEqual(5_000);
    expect(await elect(id)).toBe(-2);
  });

  it('take over a holder only after its channel had no subscriber for the grace, and only on the node it subscribed on', async () => {
    const keys = new RedisKeys(uid('ns'), 'current');
    const taker = await liveSession(keys);
    const name = uid('lock');
    const holder = await liveSession(keys);
    const first = Number(await acquire(keys, name, 'h1', holder));
    expect(first).toBeGreaterThan(0);
    await listener.unsubscribe(keys.session(holder));
    expect(await acquire(keys, name, 'h2', taker), 'within the grace').toBe(0);
    await sleep(UNSUBSCRIBED_GRACE_MS / 2);
    expect(await acquire(keys, name, 'h2', taker), 'still within the grace').toBe(0);
    await sleep(UNSUBSCRIBED_GRACE_MS / 2 + 50);
    expect(Number(await acquire(keys, name, 'h2', taker)), 'after the grace').toBeGreaterThan(first);

    // Subscribed elsewhere (a failover moved it): this node's NUMSUB says nothing, only the lease decides.
    const other = uid('lock');
    const moved = await liveSession(keys);
    expect(Number(await acquire(keys, other, 'h3', moved))).toBeGreaterThan(0);
    await raw.set(keys.sessionNode(moved), 'f'.repeat(40), 'PX', LEASE_MS);
    await listener.unsubscribe(keys.session(moved));
    expect(await acquire(keys, other, 'h4', taker)).toBe(0);
    await sleep(UNSUBSCRIBED_GRACE_MS + 100);
    expect(await acquire(keys, other, 'h4', taker), 'never reaped by another node’s NUMSUB').toBe(0);

    // A blink shorter than the grace restarts it: seen subscribed again clears the first-seen-empty time.
    const third = uid('lock');
    const blinking = await liveSession(keys);
    expect(Number(await acquire(keys, third, 'h5', blinking))).toBeGreaterThan(0);
    await listener.unsubscribe(keys.session(blinking));
    expect(await acquire(keys, third, 'h6', taker)).toBe(0);
    await listener.subscribe(keys.session(blinking));
    await sleep(UNSUBSCRIBED_GRACE_MS);
    expect(await acquire(keys, third, 'h6', taker)).toBe(0);
    await listener.unsubscribe(keys.session(blinking));
    expect(await acquire(keys, third, 'h6', taker), 'a new drop starts a new grace').toBe(0);
  });
});
