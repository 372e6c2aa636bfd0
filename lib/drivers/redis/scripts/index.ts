import { createGroupScript } from './group-create.js';
import { deleteGroupScript } from './group-delete.js';
import { joinScript } from './group-join.js';
import { leaveScript } from './group-leave.js';
import { memberScript } from './group-member.js';
import { membersWithCapabilitiesScript } from './group-members-with-capabilities.js';
import { membersScript } from './group-members.js';
import { updateCapabilitiesScript } from './group-update-capabilities.js';
import { electScript } from './leader-elect.js';
import { forgetSessionScript } from './leader-forget-session.js';
import { leaderScript } from './leader-read.js';
import { standDownScript } from './leader-stand-down.js';
import { acquireScript } from './lock-acquire.js';
import { breakScript } from './lock-break.js';
import { confirmScript } from './lock-confirm.js';
import { heldScript } from './lock-held.js';
import { refreshScript } from './lock-refresh.js';
import { releaseScript } from './lock-release.js';
import { waitingScript } from './lock-waiting.js';
import { withdrawScript } from './lock-withdraw.js';
import { registerSessionScript } from './session-register.js';

export { createGroupScript } from './group-create.js';
export { deleteGroupScript } from './group-delete.js';
export { joinScript } from './group-join.js';
export { leaveScript } from './group-leave.js';
export { memberScript } from './group-member.js';
export { membersWithCapabilitiesScript } from './group-members-with-capabilities.js';
export { membersScript } from './group-members.js';
export { updateCapabilitiesScript } from './group-update-capabilities.js';
export { electScript } from './leader-elect.js';
export { forgetSessionScript } from './leader-forget-session.js';
export { leaderScript } from './leader-read.js';
export { standDownScript } from './leader-stand-down.js';
export { acquireScript } from './lock-acquire.js';
export { breakScript } from './lock-break.js';
export { confirmScript } from './lock-confirm.js';
export { heldScript } from './lock-held.js';
export { refreshScript } from './lock-refresh.js';
export { releaseScript } from './lock-release.js';
export { waitingScript } from './lock-waiting.js';
export { withdrawScript } from './lock-withdraw.js';
export { registerSessionScript } from './session-register.js';

/** Every script, defined on each client at connect. */
export const ALL_SCRIPTS = [
  createGroupScript,
  deleteGroupScript,
  joinScript,
  leaveScript,
  memberScript,
  membersWithCapabilitiesScript,
  membersScript,
  updateCapabilitiesScript,
  electScript,
  forgetSessionScript,
  leaderScript,
  standDownScript,
  acquireScript,
  breakScript,
  confirmScript,
  heldScript,
  refreshScript,
  releaseScript,
  waitingScript,
  withdrawScript,
  registerSessionScript,
];
