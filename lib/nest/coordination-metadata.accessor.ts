import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { COORDINATION_GROUP_EVENTS, COORDINATION_LEADER, COORDINATION_WITH_LOCK } from './coordination.constants.js';
import type {
  GroupEventMetadata,
  LeaderMetadata,
  WithLockMetadata,
} from './interfaces/coordination-metadata.interface.js';

/** The one place that reads what our decorators recorded on a method. */
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
}
