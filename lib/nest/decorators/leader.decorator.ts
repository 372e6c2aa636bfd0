import { SetMetadata } from '@nestjs/common';
import { COORDINATION_LEADER } from '../coordination.constants.js';
import type { LeaderMetadata } from '../interfaces/coordination-metadata.interface.js';
import { guardMethod } from './guarded-method.js';
import { assertGroupId, assertInstanceMethod, assertNotYetDecorated } from './method-target.js';

/**
 * Run the method only while this member leads `groupId`; otherwise the call
 * resolves to `undefined` without running it (the decorated method always
 * returns a promise). A call before the application has bootstrapped (from a
 * constructor, say) or after it shut down leads nothing either.
 *
 * At bootstrap the module joins `groupId` (creating it if needed) and runs
 * for its leadership, so a lone instance leads as soon as the application has
 * started; another member takes over within `watchers.intervalMs` of the
 * leader's `app.close()`.
 *
 * Stacks with `@Cron()`, `@Interval()` and `@Timeout()` in either order: only
 * the leader's scheduled runs execute the body; on a controller route, only
 * the leader's requests do. The check uses the coordinator of the application
 * that owns the instance, so two applications in one process each lead on
 * their own.
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
    const metadata: LeaderMetadata = { groupId };
    guardMethod(target, key, descriptor, { leader: metadata });
    SetMetadata<string, LeaderMetadata>(COORDINATION_LEADER, metadata)(target, key, descriptor);
    return descriptor;
  };
}
