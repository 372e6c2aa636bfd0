import { Injectable, Scope } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CoordinationModule,
  type CoordinationEvent,
  Coordinator,
  getCoordinator,
  LeaderElected,
  MemberJoinedGroup,
  MemberLeftGroup,
  OnLeaderElected,
  OnMemberJoined,
  OnMemberLeft,
} from '../../lib/index.js';
import { drivers, testBackend } from '../support/drivers.js';
import { createApp, RecordingLogger, sleep, waitFor } from './support.js';

/** Handlers for `group` (and one also for `otherGroup`). */
function crewWatcher(group: string, otherGroup: string) {
  @Injectable()
  class CrewWatcher {
    joined: string[] = [];
    left: string[] = [];
    elected: LeaderElected[] = [];
    other: string[] = [];

    @OnMemberJoined(group)
    onJoin(event: MemberJoinedGroup) {
      this.joined.push(event.memberId);
    }

    @OnMemberLeft(group)
    async onLeave(event: MemberLeftGroup) {
      this.left.push(event.memberId);
    }

    @OnLeaderElected(group)
    onElected(event: LeaderElected) {
      this.elected.push(event);
    }

    @OnMemberJoined(group)
    @OnMemberJoined(otherGroup)
    both(event: MemberJoinedGroup) {
      this.other.push(`${event.groupId}:${event.memberId}`);
    }

    @OnMemberJoined(group)
    explode() {
      throw new Error('handler exploded');
    }
  }
  return CrewWatcher;
}

const apps: TestingModule[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe.each(drivers)('@OnMemberJoined / @OnMemberLeft / @OnLeaderElected on $name', (driver) => {
  it('fire for members of the group, and events$ carries the same events', async () => {
    const { url, name } = testBackend(driver);
    const [GROUP, OTHER, WATCHER, PEER] = [name('crew'), name('other-crew'), name('watcher'), name('peer')];
    const CrewWatcher = crewWatcher(GROUP, OTHER);
    const logger = new RecordingLogger();
    const app = await createApp(
      [CoordinationModule.forRoot({ url: url(), memberId: WATCHER, watchers: { intervalMs: 50 } })],
      [CrewWatcher],
      logger,
    );
    apps.push(app);
    const watcher = app.get(CrewWatcher);
    const events: CoordinationEvent[] = [];
    app.get(Coordinator).events$.subscribe((event) => events.push(event));

    // Declaring @OnLeaderElected made this member a candidate: alone, it was elected at bootstrap.
    expect(watcher.elected.map((e) => [e.groupId, e.memberId])).toEqual([[GROUP, WATCHER]]);
    expect(await app.get(Coordinator).getMembers(GROUP)).toEqual(new Set([WATCHER]));

    const peer = getCoordinator(url(), PEER);
    await peer.start();
    await peer.joinGroup(GROUP);
    await peer.joinGroup(OTHER);
    await waitFor(() => watcher.joined.includes(PEER), 2000, 'the join handler');
    await waitFor(() => watcher.other.length === 2);
    expect(watcher.other.sort()).toEqual([`${GROUP}:${PEER}`, `${OTHER}:${PEER}`].sort());

    await peer.leaveGroup(GROUP);
    await waitFor(() => watcher.left.includes(PEER), 2000, 'the leave handler');
    await peer.stop();

    expect(watcher.joined).toEqual([PEER]);
    expect(events.some((e) => e instanceof MemberJoinedGroup && e.memberId === PEER && e.groupId === GROUP)).toBe(true);
    expect(events.some((e) => e instanceof MemberLeftGroup && e.memberId === PEER)).toBe(true);

    // The throwing handler was logged with its class and method; the others ran regardless.
    const errors = logger.messages('error').join('\n');
    expect(errors).toMatch(/@OnMemberJoined\(\) handler CrewWatcher\.explode failed: handler exploded/);
    expect(errors).not.toMatch(/Running the watchers/);
  });

  it('sees a member whose membership expires as having left', async () => {
    const { url, name } = testBackend(driver);
    const CrewWatcher = crewWatcher(name('crew'), name('other-crew'));
    const app = await createApp(
      [
        CoordinationModule.forRoot({
          url: url({ timeout: 0.3 }),
          memberId: name('watcher'),
          watchers: { intervalMs: 50 },
        }),
      ],
      [CrewWatcher],
    );
    apps.push(app);
    const watcher = app.get(CrewWatcher);
    const ghost = getCoordinator(url({ timeout: 0.3 }), name('ghost'));
    await ghost.start();
    await ghost.joinGroup(name('crew'));
    await waitFor(() => watcher.joined.includes(name('ghost')));
    // ghost never beats again
    await waitFor(() => watcher.left.includes(name('ghost')), 2000, 'the expired member to be reported');
    expect(watcher.left).toEqual([name('ghost')]);
  });

  it('@OnLeaderElected fires on the member that takes over', async () => {
    const { url, name } = testBackend(driver);
    const CrewWatcher = crewWatcher(name('crew'), name('other-crew'));
    const first = await createApp(
      [CoordinationModule.forRoot({ url: url(), memberId: name('first'), watchers: { intervalMs: 50 } })],
      [CrewWatcher],
    );
    const second = await createApp(
      [CoordinationModule.forRoot({ url: url(), memberId: name('second'), watchers: { intervalMs: 50 } })],
      [CrewWatcher],
    );
    apps.push(second);
    expect(first.get(CrewWatcher).elected).toHaveLength(1);
    expect(second.get(CrewWatcher).elected).toHaveLength(0);
    await first.close();
    await waitFor(() => second.get(CrewWatcher).elected.length === 1, 2000, 'the takeover');
    expect(second.get(CrewWatcher).elected[0]!.memberId).toBe(name('second'));
    // The second member saw the first leave.
    await waitFor(() => second.get(CrewWatcher).left.includes(name('first')));
  });
});

describe.each(drivers)('group-event handlers: which instance, and which name in the log, on $name', (driver) => {
  /** A handler for `group` that always fails. */
  function auditService(group: string) {
    @Injectable()
    class AuditService {
      @OnMemberJoined(group)
      onJoin() {
        throw new Error('audit store down');
      }
    }
    return AuditService;
  }

  it.each([
    ['a factory provider', (Audit: new () => object) => ({ provide: 'AUDIT', useFactory: () => new Audit() })],
    [
      'a value provider under a string token',
      (Audit: new () => object) => ({ provide: 'AUDIT', useValue: new Audit() }),
    ],
  ])('a throwing handler on %s is logged with the class and method it runs', async (_, provide) => {
    const { url, name } = testBackend(driver);
    const logger = new RecordingLogger();
    const app = await createApp(
      [CoordinationModule.forRoot({ url: url(), watchers: { intervalMs: 20 } })],
      [provide(auditService(name('crew')))],
      logger,
    );
    apps.push(app);
    const peer = getCoordinator(url(), name('peer'));
    await peer.start();
    try {
      await peer.joinGroup(name('crew'));
      const failure = () => logger.messages('error').find((m) => m.includes('audit store down'));
      await waitFor(() => failure() !== undefined, 2000, 'the log');
      expect(failure()).toMatch(/@OnMemberJoined\(\) handler AuditService\.onJoin failed/);
    } finally {
      await peer.stop();
    }
  });

  it('a transient provider: the handler runs once on each instance Nest built, never on its prototype placeholder', async () => {
    const { url, name } = testBackend(driver);
    const GROUP = name('crew');
    const calls: JoinCounter[] = [];
    @Injectable({ scope: Scope.TRANSIENT })
    class JoinCounter {
      static constructed = 0;
      readonly id = ++JoinCounter.constructed;
      @OnMemberJoined(GROUP)
      onJoin() {
        calls.push(this);
      }
    }
    @Injectable()
    class ConsumerA {
      constructor(readonly counter: JoinCounter) {}
    }
    @Injectable()
    class ConsumerB {
      constructor(readonly counter: JoinCounter) {}
    }
    const app = await createApp(
      [CoordinationModule.forRoot({ url: url(), watchers: { intervalMs: 20 } })],
      [JoinCounter, ConsumerA, ConsumerB],
    );
    apps.push(app);
    const peer = getCoordinator(url(), name('peer'));
    await peer.start();
    try {
      await peer.joinGroup(GROUP);
      await waitFor(() => calls.length >= 2, 2000, 'the handler calls');
      await sleep(100); // a third call would land by now
      expect(calls.map((instance) => instance.id).sort()).toEqual([1, 2]);
      expect(calls).toContain(app.get(ConsumerA).counter);
      expect(calls).toContain(app.get(ConsumerB).counter);
    } finally {
      await peer.stop();
    }
  });
});
