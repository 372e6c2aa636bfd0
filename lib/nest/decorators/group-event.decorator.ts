import { COORDINATION_GROUP_EVENTS } from '../coordination.constants.js';
import type { GroupEventKind, GroupEventMetadata } from '../interfaces/coordination-metadata.interface.js';
import { assertGroupId, assertInstanceMethod } from './method-target.js';

/**
 * The shared body of the three group-event decorators. Unlike `SetMetadata`
 * it appends, so one method can handle events of several groups.
 */
export function GroupEvent(decorator: string, event: GroupEventKind, groupId: string): MethodDecorator {
  assertGroupId(decorator, groupId);
  return (target, key, descriptor) => {
    assertInstanceMethod(decorator, target, key, descriptor);
    const existing: GroupEventMetadata[] = Reflect.getOwnMetadata(COORDINATION_GROUP_EVENTS, descriptor.value) ?? [];
    if (existing.some((entry) => entry.event === event && entry.groupId === groupId)) return;
    Reflect.defineMetadata(COORDINATION_GROUP_EVENTS, [...existing, { event, groupId }], descriptor.value);
  };
}
