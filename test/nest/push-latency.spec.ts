/**
 * Handlers run on a push, not at the tick (docs/nestjs.md#how-soon-handlers-run):
 * the watchers tick is 10 s here, so only the push can deliver in time.
 * The target is <= 50 ms; the bound is generous for a loaded, shared CI box
 * (bench/push-latency.mjs measures the figure).
 */
import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CoordinationModule,
  Coordinator,
  getCoordinator,
  LeadershipLost,
  type MemberJoinedGroup,
  type MemberLeftGroup,
  OnLeaderElected,
  OnMemberJoined,
  OnMemberLeft,
} from '../../lib/index.js';
import { drivers, testBackend } from '../support/drivers.js';
import { createApp, waitFor } from './support.js';

/** Far beyond every bound below: a delivery in time came from a push. */
const TICK_MS = 10_000;
const BOUND_MS = 250;

const apps: TestingModule[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe.each(drivers)('handlers run on a push, not at the watchers tick, on $name', (driver) => {
  // Guards against a Nest layer that delivers joins and leaves only at its
  // watchers tick (1 s by default): a push must bring the run forward.
  it(`@OnMemberJoined / @OnMemberLeft run within ${BOUND_MS} ms of the other member's joinGroup / leaveGroup resolving`, async () => {
    const { url, name } = testBackend(driver);
    const group = name('crew');
    const seen: { kind: 'join' | 'leave'; at: number }[] = [];
    @Injectable()
    class Crew {
      @OnMemberJoined(group)
      joined(_event: MemberJoinedGroup) {
        seen.push({ kind: 'join', at: performance.now() });
      }
      @OnMemberLeft(group)
      left(_event: MemberLeftGroup) {
        seen.push({ kind: 'leave', at: performance.now() });
      }
    }
    const app = await createApp(
      [CoordinationModule.forRoot({ url: url(), memberId: name('watcher'), watchers: { intervalMs: TICK_MS } })],
      [Crew],
    );
    apps.push(app);
    const peer = getCoordinator(url(), name('peer'));
    await peer.start();
    const latencies: number[] = [];
    try {
      for (let round = 0; round < 5; round++) {
        for (const kind of ['join', 'leave'] as const) {
          const before = seen.length;
          if (kind === 'join') await peer.joinGroup(group);
          else await peer.leaveGroup(group);
          const resolved = performance.now();
          await waitFor(() => seen.length > before, 2_000, `the ${kind} handler (round ${round})`);
          expect(seen[before]!.kind).toBe(kind);
          latencies.push(Math.max(0, seen[before]!.at - resolved));
        }
      }
    } finally {
      await peer.stop();
    }
    expect(Math.max(...latencies)).toBeLessThan(BOUND_MS);
  });

  // Guards against the Nest layer ignoring a leaderGone push: a graceful
  // hand-over would then wait for the follower's next watchers tick.
  it(`after a graceful stand-down, the follower's @OnLeaderElected runs within ${BOUND_MS} ms`, async () => {
    const { url, name } = testBackend(driver);
    const group = name('leaders');
    const elected: { memberId: string; at: number }[] = [];
    @Injectable()
    class Candidate {
      constructor(private readonly coordinator: Coordinator) {}
      @OnLeaderElected(group)
      won() {
        elected.push({ memberId: this.coordinator.memberId, at: performance.now() });
      }
    }
    const options = (memberId: string) => ({ url: url(), memberId, watchers: { intervalMs: TICK_MS } });
    const first = await createApp([CoordinationModule.forRoot(options(name('first')))], [Candidate]);
    apps.push(first);
    const second = await createApp([CoordinationModule.forRoot(options(name('second')))], [Candidate]);
    apps.push(second);
    expect(elected.map((e) => e.memberId)).toEqual([name('first')]);

    let stoodDown = NaN;
    first.get(Coordinator).events$.subscribe((event) => {
      if (event instanceof LeadershipLost) stoodDown = performance.now();
    });
    await first.close(); // stands down, then leaves and stops
    apps.splice(apps.indexOf(first), 1);
    await waitFor(() => elected.length === 2, 2_000, 'the follower to take over');
    expect(elected[1]!.memberId).toBe(name('second'));
    expect(elected[1]!.at - stoodDown).toBeLessThan(BOUND_MS);
  });
});
