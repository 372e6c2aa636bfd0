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
import { createApp, memoryUrl, RecordingLogger, sleep, waitFor } from './support.js';

const GROUP = 'crew';

@Injectable()
class CrewWatcher {
  joined: string[] = [];
  left: string[] = [];
  elected: LeaderElected[] = [];
  other: string[] = [];

  @OnMemberJoined(GROUP)
  onJoin(event: MemberJoinedGroup) {
    this.joined.push(event.memberId);
  }

  @OnMemberLeft(GROUP)
  async onLeave(event: MemberLeftGroup) {
    this.left.push(event.memberId);
  }

  @OnLeaderElected(GROUP)
  onElected(event: LeaderElected) {
    this.elected.push(event);
  }

  @OnMemberJoined(GROUP)
  @OnMemberJoined('other-crew')
  both(event: MemberJoinedGroup) {
    this.other.push(`${event.groupId}:${event.memberId}`);
  }

  @OnMemberJoined(GROUP)
  explode() {
    throw new Error('handler exploded');
  }
}

const apps: TestingModule[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('@OnMemberJoined / @OnMemberLeft / @OnLeaderElected', () => {
  it('fire for members of the group, and events$ carries the same events', async () => {
    const url = memoryUrl();
    const logger = new RecordingLogger();
    const app = await createApp(
      [CoordinationModule.forRoot({ url, memberId: 'watcher', watchers: { intervalMs: 50 } })],
      [CrewWatcher],
      logger,
    );
    apps.push(app);
    const watcher = app.get(CrewWatcher);
    const events: CoordinationEvent[] = [];
    app.get(Coordinator).events$.subscribe((event) => events.push(event));

    // Declaring @OnLeaderElected made this member a candidate: alone, it was elected at bootstrap.
    expect(watcher.elected.map((e) => [e.groupId, e.memberId])).toEqual([[GROUP, 'watcher']]);
    expect(await app.get(Coordinator).getMembers(GROUP)).toEqual(new Set(['watcher']));

    const peer = getCoordinator(url, 'peer');
    await peer.start();
    await peer.joinGroup(GROUP);
    await peer.joinGroup('other-crew');
    await waitFor(() => watcher.joined.includes('peer'), 2000, 'the join handler');
    await waitFor(() => watcher.other.length === 2);
    expect(watcher.other.sort()).toEqual([`${GROUP}:peer`, 'other-crew:peer']);

    await peer.leaveGroup(GROUP);
    await waitFor(() => watcher.left.includes('peer'), 2000, 'the leave handler');
    await peer.stop();

    expect(watcher.joined).toEqual(['peer']);
    expect(events.some((e) => e instanceof MemberJoinedGroup && e.memberId === 'peer' && e.groupId === GROUP)).toBe(
      true,
    );
    expect(events.some((e) => e instanceof MemberLeftGroup && e.memberId === 'peer')).toBe(true);

    // The throwing handler was logged with its class and method; the others ran regardless.
    const errors = logger.messages('error').join('\n');
    expect(errors).toMatch(/@OnMemberJoined\(\) handler CrewWatcher\.explode failed: handler exploded/);
    expect(errors).not.toMatch(/Running the watchers/);
  });

  it('sees a member whose membership expires as having left', async () => {
    const url = memoryUrl('?timeout=0.3');
    const app = await createApp(
      [CoordinationModule.forRoot({ url, memberId: 'watcher', watchers: { intervalMs: 50 } })],
      [CrewWatcher],
    );
    apps.push(app);
    const watcher = app.get(CrewWatcher);
    const ghost = getCoordinator(url, 'ghost');
    await ghost.start();
    await ghost.joinGroup(GROUP);
    await waitFor(() => watcher.joined.includes('ghost'));
    // ghost never beats again
    await waitFor(() => watcher.left.includes('ghost'), 2000, 'the expired member to be reported');
    expect(watcher.left).toEqual(['ghost']);
  });

  it('@OnLeaderElected fires on the member that takes over', async () => {
    const url = memoryUrl();
    const first = await createApp(
      [CoordinationModule.forRoot({ url, memberId: 'first', watchers: { intervalMs: 50 } })],
      [CrewWatcher],
    );
    const second = await createApp(
      [CoordinationModule.forRoot({ url, memberId: 'second', watchers: { intervalMs: 50 } })],
      [CrewWatcher],
    );
    apps.push(second);
    expect(first.get(CrewWatcher).elected).toHaveLength(1);
    expect(second.get(CrewWatcher).elected).toHaveLength(0);
    await first.close();
    await waitFor(() => second.get(CrewWatcher).elected.length === 1, 2000, 'the takeover');
    expect(second.get(CrewWatcher).elected[0]!.memberId).toBe('second');
    // The second member saw the first leave.
    await waitFor(() => second.get(CrewWatcher).left.includes('first'));
  });
});

describe('group-event handlers: which instance, and which name in the log', () => {
  @Injectable()
  class AuditService {
    @OnMemberJoined(GROUP)
    onJoin() {
      throw new Error('audit store down');
    }
  }

  it.each([
    ['a factory provider', { provide: 'AUDIT', useFactory: () => new AuditService() }],
    ['a value provider under a string token', { provide: 'AUDIT', useValue: new AuditService() }],
  ])('a throwing handler on %s is logged with the class and method it runs', async (_, provider) => {
    const url = memoryUrl();
    const logger = new RecordingLogger();
    const app = await createApp(
      [CoordinationModule.forRoot({ url, watchers: { intervalMs: 20 } })],
      [provider],
      logger,
    );
    apps.push(app);
    const peer = getCoordinator(url, 'peer');
    await peer.start();
    try {
      await peer.joinGroup(GROUP);
      const failure = () => logger.messages('error').find((m) => m.includes('audit store down'));
      await waitFor(() => failure() !== undefined, 2000, 'the log');
      expect(failure()).toMatch(/@OnMemberJoined\(\) handler AuditService\.onJoin failed/);
    } finally {
      await peer.stop();
    }
  });

  it('a transient provider: the handler runs once on each instance Nest built, never on its prototype placeholder', async () => {
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
    const url = memoryUrl();
    const app = await createApp(
      [CoordinationModule.forRoot({ url, watchers: { intervalMs: 20 } })],
      [JoinCounter, ConsumerA, ConsumerB],
    );
    apps.push(app);
    const peer = getCoordinator(url, 'peer');
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
