/**
 * Failover on postgresql://: from SIGKILL of a lock's holder (a separate
 * Node process) to the queued waiter's `acquire()` resolving with the lock.
 * The waiter learns of the death through its death watch (a shared
 * transaction lock on the holder's session key, on a second connection;
 * docs/postgresql.md#a-holder-that-dies), not its 500 ms poll.
 *
 * Run against the built package:
 *
 *   npm run build && node bench/pg-failover.mjs [postgresql://root@127.0.0.1:5432/test] [rounds]
 *
 * NC_DIST=<path to a built index.js> runs another build instead of ../dist.
 * It works in a schema of its own, dropped at the end.
 *
 * Measured on the 2-core development machine (shared with other jobs), the
 * local PostgreSQL 15, defaults: n=20 min 10.3 ms, p50 17.7 ms, max 76.8 ms;
 * n=30 min 9.5 ms, p50 15.2 ms, max 24.7 ms. With the 500 ms poll alone it
 * was ~300 ms on average, up to 500 ms.
 */
/* global process, console, setTimeout, URL */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

const base = process.argv[2] ?? 'postgresql://root@127.0.0.1:5432/test';
const rounds = Number(process.argv[3] ?? 20);
const entry = process.env.NC_DIST
  ? pathToFileURL(process.env.NC_DIST).href
  : new URL('../dist/index.js', import.meta.url).href;
const { getCoordinator } = await import(entry);

const schema = `ncbench_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
const url = `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`;

const HOLDER = `
import { getCoordinator } from ${JSON.stringify(entry)};
const coordinator = getCoordinator(process.argv[1], 'holder-' + process.pid);
await coordinator.start();
const held = await coordinator.getLock(process.argv[2]).acquire({ blocking: false });
console.log(held ? 'held' : 'not held');
setInterval(() => undefined, 1 << 30);
`;

function quantiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1), min: sorted[0] };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const waiter = getCoordinator(url, 'waiter');
await waiter.start();
const samples = [];
try {
  for (let round = 0; round < rounds; round++) {
    const name = `failover-${round}`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER, url, name], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [first] = await once(createInterface({ input: child.stdout }), 'line');
    if (first !== 'held') throw new Error(`holder answered ${first}`);
    const lock = waiter.getLock(name);
    const acquired = lock.acquire({ timeoutMs: 10_000 }).then((ok) => ({ ok, at: performance.now() }));
    await sleep(100 + Math.random() * 400); // queued, at a random phase of the 500 ms poll
    const killedAt = performance.now();
    child.kill('SIGKILL');
    const { ok, at } = await acquired;
    if (!ok) throw new Error(`round ${round}: the waiter did not get the lock`);
    samples.push(at - killedAt);
    await lock.release();
  }
} finally {
  await waiter.stop().catch(() => undefined);
  const admin = new pg.Client({ connectionString: base.split('?')[0] });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
}
const { n, p50, p99, max, min } = quantiles(samples);
const ms = (v) => `${v.toFixed(1)} ms`;
console.log(
  `SIGKILL of the holder -> next waiter holds the lock: min ${ms(min)}  p50 ${ms(p50)}  p99 ${ms(p99)}  max ${ms(max)}  (n=${n})`,
);
