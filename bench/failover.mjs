/**
 * What a crashed lock holder costs on redis://: a child process holds a lock
 * and is SIGKILLed while this process waits for the lock; the figure is the
 * time from the kill to the waiter's `acquire()` resolving. It is the grace
 * a quiet session channel gets before others take over (UNSUBSCRIBED_GRACE_MS,
 * 1 s, docs/redis.md#failover) plus up to one dead-holder check (the waiter
 * looks at least once a second, and again when the grace ends), never the
 * 30 s lease.
 *
 *   npm run build && node bench/failover.mjs [redis://127.0.0.1:6379] [rounds]
 *
 * NC_DIST=<path to a built index.js> runs another build instead of ../dist.
 * It writes only keys under a namespace of its own, which expire by themselves.
 */
/* global process, console, setTimeout, URL */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const url = process.argv[2] ?? 'redis://127.0.0.1:6379';
const rounds = Number(process.argv[3] ?? 5);
const entry = process.env.NC_DIST
  ? pathToFileURL(process.env.NC_DIST).href
  : new URL('../dist/index.js', import.meta.url).href;
const { getCoordinator } = await import(entry);

const namespace = `ncbench-${randomUUID()}`;
const target = `${url}${url.includes('?') ? '&' : '?'}namespace=${namespace}`;

/** A child that holds `name` and says so on stdout, then waits to be killed. */
function holder(name) {
  const code = `
    const { getCoordinator } = await import(${JSON.stringify(entry)});
    const c = getCoordinator(${JSON.stringify(target)}, 'holder-' + process.pid);
    await c.start();
    if (!(await c.getLock(${JSON.stringify(name)}).acquire({ blocking: false }))) process.exit(2);
    console.log('held');
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => String(chunk).includes('held') && resolve(child));
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
}

const waiter = getCoordinator(target, 'waiter');
await waiter.start();
const samples = [];
for (let round = 0; round < rounds; round++) {
  const name = `lock-${round}`;
  const child = await holder(name);
  const lock = waiter.getLock(name);
  const got = lock.acquire({ timeoutMs: 20_000 });
  await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 1000)); // any phase of the waiter's checks
  const killedAt = performance.now();
  child.kill('SIGKILL');
  if (!(await got)) throw new Error('the waiter did not get the lock within 20 s');
  samples.push(performance.now() - killedAt);
  await lock.release();
}
await waiter.stop();
samples.sort((a, b) => a - b);
const ms = (v) => `${v.toFixed(0)} ms`;
console.log(
  `SIGKILLed holder -> next waiter: min ${ms(samples[0])}  p50 ${ms(samples[Math.floor(samples.length / 2)])}  ` +
    `max ${ms(samples.at(-1))}  (n=${samples.length}, lease 30 s)`,
);
