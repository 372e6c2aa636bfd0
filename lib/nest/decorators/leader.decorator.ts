import { SetMetadata } from '@nestjs/common';
import { COORDINATION_LEADER } from '../coordination.constants.js';
import type { LeaderMetadata } from '../interfaces/coordination-metadata.interface.js';
import { assertGroupId, assertInstanceMethod, assertNotYetDecorated } from './method-target.js';

/**
 * Run the method only while this member leads `groupId`; otherwise the call
 * resolves to `undefined` without running it (the method always returns a
 * promise once guarded).
 *
 * At bootstrap the module joins `groupId` (creating it if needed) and runs
 * for its leadership, so a lone instance leads as soon as the application has
 * started; another member takes over within `watchers.intervalMs` of the
 * leader's `app.close()`.
 *
 * Stacks with `@Cron()`, `@Interval()` and `@Timeout()` in either order: only
 * the leader's scheduled runs execute the body. The guard belongs to the
 * application that owns the instance, so two applications in one process
 * each lead on their own.
 *
 * @example
 * ```ts
 * @Leader('reports')
 * @Cron('0 * * * *')
 * async hourlyReport() { … }
 * ```
 */
export function Leader(groupId: string): MethodDecorator {
  assertGroupId('@Leader()', groupId);
  return (target, key, descriptor) => {
    assertInstanceMethod('@Leader()', target, key, descriptor);
    assertNotYetDecorated('@Leader()', COORDINATION_LEADER, target, key, descriptor.value);
    SetMetadata<string, LeaderMetadata>(COORDINATION_LEADER, { groupId })(target, key, descriptor);
  };
}
