import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  COORDINATION_GROUP_EVENTS,
  COORDINATION_LEADER,
  COORDINATION_WITH_LOCK,
  SCHEDULE_TYPE_METADATA,
} from './coordination.constants.js';
import type {
  GroupEventMetadata,
  LeaderMetadata,
  WithLockMetadata,
} from './interfaces/coordination-metadata.interface.js';

/** `@nestjs/schedule`'s `SchedulerType` values (an enum it does not export) → the decorator that writes each. */
const SCHEDULE_DECORATORS: Record<number, string> = { 1: '@Cron()', 2: '@Timeout()', 3: '@Interval()' };

/** The one place that reads what our decorators (and `@nestjs/schedule`'s) recorded on a method. */
@Injectable()
export class CoordinationMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getLeader(method: Function): LeaderMetadata | undefined {
    return this.reflector.get<LeaderMetadata | undefined>(COORDINATION_LEADER, method);
  }

  getWithLock(method: Function): WithLockMetadata | undefined {
    return this.reflector.get<WithLockMetadata | undefined>(COORDINATION_WITH_LOCK, method);
  }

  getGroupEvents(method: Function): readonly GroupEventMetadata[] {
    return this.reflector.get<GroupEventMetadata[] | undefined>(COORDINATION_GROUP_EVENTS, method) ?? [];
  }

  /** `@Cron()`, `@Interval()` or `@Timeout()`, if the method carries one. */
  getScheduleDecorator(method: Function): string | undefined {
    const type = this.reflector.get<number | undefined>(SCHEDULE_TYPE_METADATA, method);
    return type === undefined ? undefined : (SCHEDULE_DECORATORS[type] ?? '@nestjs/schedule');
  }
}
