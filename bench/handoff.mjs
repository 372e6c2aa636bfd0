/**
 * Lock hand-off latency on redis://: from `release()` by the holder to the
 * blocked waiter's `acquire()` resolving with the lock, next to plain PINGs
 * on the same Redis in the same run (one PING, and two in a row: the hand-off
 * is one release script, a pub/sub push, and the waiter's confirm), and next
 * to a redlock / redis-py style lock whose waiter polls `SET NX PX` (tooz's
 * Redis driver polls every 100 ms).
 *
 * Run against the built package:
 *
 *   npm run build && node bench/handoff.mjs [redis://127.0.0.1:6379] [rounds]
 *
 * NC_DIST=<path to a built index.js> runs another build instead of ../dist.
 * It writes only keys under a namespace of its own, and deletes them at the end.
 */
/* global process, console, setTimeout, URL */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';

const url = process.argv[2] ?? 'redis://127.0.0.1:6379';
const rounds = Number(process.argv[3] ?? 500);
const entry = process.env.NC_DIST
  ? pathToFileURL(process.env.NC_DIST).href
  : new URL('../dist/index.js', import.meta.url).href;
const { getCoordinator } = await import(entry);

const namespace = `ncbench-${randomUUID()}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function quantiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) };
}

function line(label, samples) {
  const { n, p50, p99, max } = quantiles(samples);
  const ms = (v) => `${v.toFixed(3).padStart(8)} ms`;
  console.log(`${label.padEnd(44)} p50 ${ms(p50)}   p99 ${ms(p99)}   max ${ms(max)}   (n=${n})`);
}

const target = new URL(url);
const raw = new Redis({ host: target.hostname, port: Number(target.port || 6379), lazyConnect: true });
await raw.connect();

// ---- plain PINGs ---------------------------------------------------------------
const ping1 = [];
const ping2 = [];
for (let i = 0; i < 200; i++) await raw.ping(); // warm up
for (let i = 0; i < rounds; i++) {
  let t = performance.now();
  await raw.ping();
  ping1.push(performance.now() - t);
  t = performance.now();
  await raw.ping();
  await raw.ping();
  ping2.push(performance.now() - t);
}

// ---- redis:// hand-off -----------------------------------------------------------
const coordinatorUrl = `${url}${url.includes('?') ? '&' : '?'}namespace=${namespace}`;
const a = getCoordinator(coordinatorUrl, `bench-a-${randomUUID()}`);
const b = getCoordinator(coordinatorUrl, `bench-b-${randomUUID()}`);
await a.start();
await b.start();
const name = `lock-${randomUUID()}`;
let holder = a.getLock(name);
let waiter = b.getLock(name);
const handoff = [];
if (!(await holder.acquire())) throw new Error('could not take the lock');
for (let i = 0; i < rounds + 20; i++) {
  const waiting = waiter.acquire({ timeoutMs: 5_000 });
  await sleep(1); // the waiter is queued
  const t = performance.now();
  await holder.release();
  if (!(await waiting)) throw new Error(`round ${i}: the waiter did not get the lock`);
  if (i >= 20) handoff.push(performance.now() - t); // the first rounds warm up
  [holder, waiter] = [waiter, holder];
}
await holder.release();
await a.stop();
await b.stop();

// ---- redlock / redis-py style: the waiter polls SET NX PX ----------------------------
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
async function polled(intervalMs, count) {
  const holderClient = new Redis({ host: target.hostname, port: Number(target.port || 6379) });
  const waiterClient = new Redis({ host: target.hostname, port: Number(target.port || 6379) });
  const key = `${namespace}_polled_${intervalMs}_lock`;
  const samples = [];
  for (let i = 0; i < count; i++) {
    const held = randomUUID();
    await holderClient.set(key, held, 'PX', 30_000, 'NX');
    const waiting = (async () => {
      const token = randomUUID();
      for (;;) {
        if ((await waiterClient.set(key, token, 'PX', 30_000, 'NX')) === 'OK') return token;
        await sleep(intervalMs);
      }
    })();
    await sleep(Math.random() * intervalMs + 1); // the release falls anywhere in the waiter's polling period
    const releasedAt = performance.now();
    await holderClient.eval(RELEASE, 1, key, held);
    const token = await waiting;
    samples.push(performance.now() - releasedAt);
    await waiterClient.eval(RELEASE, 1, key, token);
  }
  holderClient.disconnect();
  waiterClient.disconnect();
  return samples;
}
const poll100 = await polled(100, Math.min(rounds, 60));
const poll10 = await polled(10, Math.min(rounds, 200));

// ---- clean up our keys ----------------------------------------------------------------
for (const pattern of [`${namespace}*`]) {
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    if (keys.length > 0) await raw.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
raw.disconnect();

console.log(`Redis ${url}, Node ${process.version}, ${rounds} rounds`);
line('PING', ping1);
line('PING + PING (two round trips)', ping2);
line('redis:// hand-off (release → waiter holds)', handoff);
line('polling SET NX every 100 ms (tooz/redis-py)', poll100);
line('polling SET NX every 10 ms', poll10);
