import { GroupEvent } from './group-event.decorator.js';

/**
 * Call the method with a `MemberJoinedGroup` event whenever a member joins
 * `groupId` (seen by `runWatchers()`, every `watchers.intervalMs`). Registered
 * at bootstrap with `watchJoinGroup`; the group is created if missing, and the
 * members present then are the baseline. A handler that throws is logged with
 * its class and method name; the others still run.
 */
export function OnMemberJoined(groupId: string): MethodDecorator {
  return GroupEvent('@OnMemberJoined()', 'joined', groupId);
}
