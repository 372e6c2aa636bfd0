/** Events delivered by `runWatchers()` callbacks and by `Coordinator.events$`. */

export class MemberJoinedGroup {
  readonly type = 'MemberJoinedGroup';
  constructor(
    readonly groupId: string,
    readonly memberId: string,
  ) {}
  toString(): string {
    return `<MemberJoinedGroup: group ${this.groupId}: +member ${this.memberId}>`;
  }
}

export class MemberLeftGroup {
  readonly type = 'MemberLeftGroup';
  constructor(
    readonly groupId: string,
    readonly memberId: string,
  ) {}
  toString(): string {
    return `<MemberLeftGroup: group ${this.groupId}: -member ${this.memberId}>`;
  }
}

export class LeaderElected {
  readonly type = 'LeaderElected';
  constructor(
    readonly groupId: string,
    readonly memberId: string,
  ) {}
  toString(): string {
    return `<LeaderElected: group ${this.groupId}: member ${this.memberId}>`;
  }
}

/** This member led `groupId` and no longer does (stood down, expired, or lost its connection). */
export class LeadershipLost {
  readonly type = 'LeadershipLost';
  constructor(
    readonly groupId: string,
    readonly memberId: string,
  ) {}
  toString(): string {
    return `<LeadershipLost: group ${this.groupId}: member ${this.memberId}>`;
  }
}

/** A hold on lock `name` ended without `release()` (expired, broken, or connection lost). */
export class LockLost {
  readonly type = 'LockLost';
  constructor(
    readonly name: string,
    readonly memberId: string,
  ) {}
  toString(): string {
    return `<LockLost: lock ${this.name}: member ${this.memberId}>`;
  }
}

export type CoordinationEvent = MemberJoinedGroup | MemberLeftGroup | LeaderElected | LeadershipLost | LockLost;
export type GroupEvent = MemberJoinedGroup | MemberLeftGroup;

/**
 * A backend push heard by `Coordinator.changes$`: the members of `groupId`
 * changed (`'members'`), or its leader is gone or changed (`'leader'`). It is
 * a hint that `runWatchers()` has something to do; it delivers nothing itself.
 */
export interface GroupChange {
  readonly groupId: string;
  readonly kind: 'members' | 'leader';
}
