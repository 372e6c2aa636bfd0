import { GroupEvent } from './group-event.decorator.js';

/**
 * Call the method with a `LeaderElected` event each time **this member**
 * becomes leader of `groupId` (tooz's `watch_elected_as_leader`): declaring
 * the handler makes this member join `groupId` and run for its leadership at
 * bootstrap. A handler that throws is logged with its class and method name.
 */
export function OnLeaderElected(groupId: string): MethodDecorator {
  return GroupEvent('@OnLeaderElected()', 'elected', groupId);
}
