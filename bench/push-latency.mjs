/**
 * Push-to-handler latency in a Nest application: from another member's
 * `joinGroup()` / `leaveGroup()` resolving to the watcher application's
 * `@OnMemberJoined` / `@OnMemberLeft` handler running, and from a leader's
 * graceful stand-down to the follower's `@OnLeaderElected` handler running
 * (docs/nestjs.md#how-soon-handlers-run). The watchers tick is set to 60 s,
 * so every delivery measured came from a push. Target: <= 50 ms.
 *
 * Run against the built package:
 *
 *   npm run build && node bench/push-latency.mjs [url ...] [--rounds=N]
 *
 * Default URLs: memory://, redis://127.0.0.1:6379, postgresql://root@127.0.0.1:5432/test.
 * NC_DIST=<path to a built index.js> runs another build instead of ../dist.
 * Names are unique per run; every member leaves and stops, and the groups are deleted, at the end.
 */
/* global process, console, setTimeout, URL */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 50);
const given = args.filter((a) => !a.startsWith('--'));
const urls = given.length ? given : ['memory://', 'redis://127.0.0.1:6379', 'postgresql://root@127.0.0.1:5432/test'];
const entry = process.env.NC_DIST
  ? pathToFileURL(process.env.NC_DIST).href
  : new URL('../dist/index.js', import.meta.url).href;
const {
  CoordinationModule,
  Coordinator,
  getCoordinator,
  LeadershipLost,
  OnLeaderElected,
  OnMemberJoined,
  OnMemberLeft,
} = await import(entry);

const TICK_MS = 60_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check, what, withinMs = 5_000) {
  const end = performance.now() + withinMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await sleep(0.5);
  }
}

function line(label, samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(0.5 * sorted.length)];
  const ms = (v) => `${v.toFixed(2).padStart(7)} ms`;
  console.log(`${label.padEnd(52)} p50 ${ms(p50)}   max ${ms(sorted.at(-1))}   (n=${sorted.length})`);
}

/** Decorators applied by hand: this file is plain JavaScript. */
function decorate(target, method, decorator) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method);
  decorator(target.prototype, method, descriptor);
}

async function app(url, memberId, providers) {
  class AppModule {}
  Module({
    imports: [CoordinationModule.forRoot({ url, memberId, watchers: { intervalMs: TICK_MS } })],
    providers,
  })(AppModule);
  return NestFactory.createApplicationContext(AppModule, { logger: false });
}

async function members(url, groups) {
  const group = `bench-crew-${randomUUID()}`;
  groups.push(group);
  const seen = [];
  class Crew {
    joined() {
      seen.push(performance.now());
    }
    left() {
      seen.push(performance.now());
    }
  }
  decorate(Crew, 'joined', OnMemberJoined(group));
  decorate(Crew, 'left', OnMemberLeft(group));
  Injectable()(Crew);
  const watcher = await app(url, `bench-watcher-${randomUUID()}`, [Crew]);
  const peer = getCoordinator(url, `bench-peer-${randomUUID()}`);
  await peer.start();
  const join = [];
  const leave = [];
  try {
    for (let i = 0; i < rounds; i++) {
      for (const [act, samples] of [
        [() => peer.joinGroup(group), join],
        [() => peer.leaveGroup(group), leave],
      ]) {
        const before = seen.length;
        await act();
        const resolved = performance.now();
        await until(() => seen.length > before, 'a handler');
        samples.push(seen[before] - resolved);
      }
    }
  } finally {
    await peer.stop();
    await watcher.close();
  }
  line(`${url}: joinGroup -> @OnMemberJoined`, join);
  line(`${url}: leaveGroup -> @OnMemberLeft`, leave);
}

async function handover(url, groups) {
  const group = `bench-leaders-${randomUUID()}`;
  groups.push(group);
  const elected = [];
  const samples = [];
  class Candidate {
    constructor(coordinator) {
      this.coordinator = coordinator;
    }
    won() {
      elected.push({ memberId: this.coordinator.memberId, at: performance.now() });
    }
  }
  Reflect.defineMetadata('design:paramtypes', [Coordinator], Candidate);
  decorate(Candidate, 'won', OnLeaderElected(group));
  Injectable()(Candidate);
  let leader = await app(url, `bench-leader-${randomUUID()}`, [Candidate]);
  let follower = await app(url, `bench-follower-${randomUUID()}`, [Candidate]);
  try {
    for (let i = 0; i < Math.max(5, Math.floor(rounds / 5)); i++) {
      let stoodDown = NaN;
      leader.get(Coordinator).events$.subscribe((event) => {
        if (event instanceof LeadershipLost) stoodDown = performance.now();
      });
      const before = elected.length;
      await leader.close(); // stands down gracefully
      await until(() => elected.length > before, 'the take-over');
      samples.push(elected[before].at - stoodDown);
      // The old follower leads now; a fresh member follows.
      leader = follower;
      follower = await app(url, `bench-follower-${randomUUID()}`, [Candidate]);
    }
  } finally {
    await follower.close();
    await leader.close();
  }
  line(`${url}: stand-down -> follower's @OnLeaderElected`, samples);
}

/** Delete the groups this run made (each empty by now). */
async function cleanup(url, groups) {
  const janitor = getCoordinator(url, `bench-janitor-${randomUUID()}`);
  await janitor.start();
  try {
    for (const group of groups) await janitor.deleteGroup(group).catch(() => undefined);
  } finally {
    await janitor.stop();
  }
}

for (const url of urls) {
  const groups = [];
  try {
    await members(url, groups);
    await handover(url, groups);
  } catch (error) {
    console.log(`${url}: skipped (${error instanceof Error ? error.message : String(error)})`);
  } finally {
    await cleanup(url, groups).catch(() => undefined);
  }
}
