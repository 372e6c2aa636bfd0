import {
  createGroupScript,
  deleteGroupScript,
  joinScript,
  leaveScript,
  memberScript,
  membersScript,
  membersWithCapabilitiesScript,
  updateCapabilitiesScript,
} from './group-scripts.js';
import { electScript, forgetSessionScript, leaderScript, standDownScript } from './leader-scripts.js';
import {
  acquireScript,
  breakScript,
  confirmScript,
  heldScript,
  refreshScript,
  releaseScript,
  waitingScript,
  withdrawScript,
} from './lock-scripts.js';

export * from './group-scripts.js';
export * from './leader-scripts.js';
export * from './lock-scripts.js';

/** Every script, defined on each client at connect. */
export const ALL_SCRIPTS = [
  createGroupScript,
  deleteGroupScript,
  joinScript,
  leaveScript,
  updateCapabilitiesScript,
  membersScript,
  membersWithCapabilitiesScript,
  memberScript,
  electScript,
  forgetSessionScript,
  standDownScript,
  leaderScript,
  acquireScript,
  releaseScript,
  confirmScript,
  waitingScript,
  withdrawScript,
  heldScript,
  breakScript,
  refreshScript,
];
