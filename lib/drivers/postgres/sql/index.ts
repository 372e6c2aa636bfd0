import { createHash } from 'node:crypto';
import type { SchemaNames } from '../schema-names.js';
import { acquireFunction } from './acquire.js';
import { advisoryApplyFunction } from './advisory-apply.js';
import { beatFunction } from './beat.js';
import { blockerFunction } from './blocker.js';
import { breakLockFunction } from './break-lock.js';
import { closeSessionFunction } from './close-session.js';
import { collectGarbageFunction } from './collect-garbage.js';
import { deleteGroupFunction } from './delete-group.js';
import { dropKeyFunction } from './drop-key.js';
import { electFunction } from './elect.js';
import { grabFunction } from './grab.js';
import { joinGroupFunction } from './join-group.js';
import { leaveGroupFunction } from './leave-group.js';
import { liveFunction } from './live.js';
import { lockKeyFunction } from './lock-key.js';
import { mutexFunction } from './mutex.js';
import { openSessionFunction } from './open-session.js';
import { releaseFunction } from './release.js';
import { repairFunction } from './repair.js';
import { settleFunction } from './settle.js';
import type { SqlDefinition } from './statement.js';
import { standDownFunction } from './stand-down.js';
import { tablesDefinition } from './tables.js';
import { takeFunction } from './take.js';
import { tryGrantFunction } from './try-grant.js';
import { tryGrantsFunction } from './try-grants.js';
import { tryKeyFunction } from './try-key.js';
import { unlockKeyFunction } from './unlock-key.js';
import { waitReleasedFunction } from './wait-released.js';
import { wakeFunction } from './wake.js';
import { withdrawFunction } from './withdraw.js';

export { acquireStatement } from './acquire.js';
export { beatStatement } from './beat.js';
export { breakLockStatement } from './break-lock.js';
export { closeSessionStatement } from './close-session.js';
export { collectGarbageStatement } from './collect-garbage.js';
export { createGroupStatement } from './create-group.js';
export { deleteGroupStatement } from './delete-group.js';
export { electStatement } from './elect.js';
export { getGroupsStatement } from './get-groups.js';
export { getLeaderStatement } from './get-leader.js';
export { getMemberStatement } from './get-member.js';
export { getMembersStatement } from './get-members.js';
export { isHeldStatement } from './is-held.js';
export { joinGroupStatement } from './join-group.js';
export { leaveGroupStatement } from './leave-group.js';
export { letGoLeaderStatement } from './let-go-leader.js';
export { membersWithCapabilitiesStatement } from './members-with-capabilities.js';
export { openSessionStatement } from './open-session.js';
export { pingStatement } from './ping.js';
export { releaseStatement } from './release.js';
export { repairStatement } from './repair.js';
export { sessionCheckStatement } from './session-check.js';
export { settleStatement } from './settle.js';
export { standDownStatement } from './stand-down.js';
export type { SqlStatement } from './statement.js';
export { MUTEX_CLASS } from './statement.js';
export { tryGrantsStatement } from './try-grants.js';
export { updateCapabilitiesStatement } from './update-capabilities.js';
export { waitReleasedStatement } from './wait-released.js';
export { withdrawStatement } from './withdraw.js';

/** Everything created at start(), tables first (plpgsql bodies are checked only when they run). */
const DEFINITIONS: SqlDefinition[] = [
  tablesDefinition,
  tryKeyFunction,
  lockKeyFunction,
  unlockKeyFunction,
  advisoryApplyFunction,
  liveFunction,
  mutexFunction,
  grabFunction,
  dropKeyFunction,
  takeFunction,
  wakeFunction,
  settleFunction,
  blockerFunction,
  acquireFunction,
  tryGrantFunction,
  tryGrantsFunction,
  releaseFunction,
  withdrawFunction,
  breakLockFunction,
  waitReleasedFunction,
  collectGarbageFunction,
  openSessionFunction,
  closeSessionFunction,
  joinGroupFunction,
  leaveGroupFunction,
  deleteGroupFunction,
  electFunction,
  standDownFunction,
  repairFunction,
  beatFunction,
];

/**
 * The whole schema as one script, ending with a marker function named after
 * the script's hash: a start() that finds the marker has nothing to create.
 */
export function schemaScript(names: SchemaNames): { script: string; marker: string } {
  const body = DEFINITIONS.map((definition) => definition.create(names)).join('\n');
  const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const marker = `${names.prefix}ddl_${version}`;
  return {
    script: `${body}\nCREATE OR REPLACE FUNCTION "${names.schema}"."${marker}"() RETURNS integer LANGUAGE sql AS 'SELECT 1';`,
    marker,
  };
}
