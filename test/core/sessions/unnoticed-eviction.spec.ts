/**
 * A member evicted without noticing (stalled past its membership timeout)
 * keeps exactly the groups it had: a group it leaves stays left, and
 * overlapping beats rejoin every group it was evicted from
 * (docs/semantics.md#membership).
 */
import { describe, expect, it } from 'vitest';
import { type Coordinator, MemberNotJoinedError } from '../../../lib/index.js';
import { testBackend } from '../../support/drivers.js';
import { sleep } from '../../support/failing-coordinators.js';
import { timedDrivers, useCoordinators } from '../support.js';

describe.each(timedDrivers)('Groups after an unnoticed eviction ($name)', (driver) => {
  const start = useCoordinators();

  /** `member` (membership timeout 0.3 s) stalls past its timeout; a reader's look prunes it. */
  async function evict(member: Coordinator, observer: Coordinator, groups: string[]): Promise<void> {
    await sleep(450);
    for (const group of groups) expect(await observer.getMembers(group)).not.toContain(member.memberId);
  }

  // Guards against a leaveGroup() that failed with MemberNotJoinedError (the
  // member was evicted and had not noticed) but kept the group in the
  // session: the next beat rejoined the group the member had just left.
  it('leaveGroup() after an eviction stays left after the next beat', async () => {
    const backend = testBackend(driver);
    const member = await start(backend.url({ timeout: 0.3 }));
    const observer = await start(backend.url({ timeout: 30 }));
    const group = backend.name('g');
    await member.joinGroupCreate(group);
    expect(await observer.getMembers(group)).toContain(member.memberId);
    await evict(member, observer, [group]);

    await expect(member.leaveGroup(group)).rejects.toBeInstanceOf(MemberNotJoinedError);
    await member.heartbeat();

    expect(await observer.getMembers(group)).not.toContain(member.memberId);
    expect(member.groups.has(group)).toBe(false);
  });

  /** Evicted from `count` groups, the member beats twice at once, then is evicted and beats again. */
  async function overlappingBeats(count: number): Promise<void> {
    const backend = testBackend(driver);
    const member = await start(backend.url({ timeout: 0.3 }));
    const observer = await start(backend.url({ timeout: 30 }));
    const groups = Array.from({ length: count }, (_, i) => backend.name(`g${i}`)).sort();
    for (const group of groups) await member.joinGroupCreate(group);
    await evict(member, observer, groups);

    await Promise.all([member.heartbeat(), member.heartbeat()]);
    expect([...member.groups].sort()).toEqual(groups);
    for (const group of groups) expect(await observer.getMembers(group)).toContain(member.memberId);

    await evict(member, observer, groups);
    await member.heartbeat();
    expect([...member.groups].sort()).toEqual(groups);
    for (const group of groups) expect(await observer.getMembers(group)).toContain(member.memberId);
  }

  // Guards against a beat that overlaps another beat's rejoin: it read the
  // group missing (before the rejoin) but liveness no longer lapsed, and took
  // it for left on purpose, so the member forgot it and a second eviction was
  // never repaired.
  it('two overlapping beats keep the group one of them rejoins', () => overlappingBeats(1));

  // With two groups the first beat must mark both as being rejoined before its first await, or the
  // overlapping beat drops the second (the backend has the member in it, the session forgot it).
  it('two overlapping beats keep both groups one of them rejoins', () => overlappingBeats(2));
});
