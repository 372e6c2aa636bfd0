import { GroupEvent } from './group-event.decorator.js';

/**
 * Call the method with a `MemberLeftGroup` event whenever a member leaves
 * `groupId` or its membership expires. Registered at bootstrap with
 * `watchLeaveGroup`; the group is created if missing. A handler that throws is
 * logged with its class and method name.
 */
export function OnMemberLeft(groupId: string): MethodDecorator {
  return GroupEvent('@OnMemberLeft()', 'left', groupId);
}
