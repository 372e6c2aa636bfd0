import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Coordinator } from '../../core/coordinator.js';
import { withTimeout } from '../../core/timeout.js';

export interface CoordinationHealthOptions {
  /** How long the backend round trip (`ping()`) may take before the indicator reports down. Default 1000. */
  timeoutMs?: number;
}

/** What the indicator reports beside `status` (a type alias: terminus wants a plain record). */
export type CoordinationHealthData = {
  memberId: string;
  /** The coordinator has been started (at bootstrap) and not stopped. */
  started: boolean;
  /** A `ping()` round trip answered within the timeout. */
  reachable: boolean;
  /** Groups this member has joined. */
  groups: string[];
  /** Groups this member has joined and leads (as the heart last saw it). */
  leading: string[];
  /** Why it is down. */
  message?: string;
};

/**
 * A `@nestjs/terminus` health indicator for the application's coordinator:
 * up when it is started and its backend answers one cheap round trip
 * (`coordinator.ping()`) within `timeoutMs`. The result also names this
 * member, the groups it has joined and those it leads, answered in memory:
 * a check never lists the backend's groups or members, so it costs the same
 * however many there are.
 *
 * Provide it beside `TerminusModule` (CoordinationModule supplies the
 * `Coordinator`):
 * ```ts
 * @Module({ imports: [TerminusModule], providers: [CoordinationHealthIndicator], controllers: [HealthController] })
 * // in HealthController: this.health.check([() => this.coordination.isHealthy('coordination')])
 * ```
 */
@Injectable()
export class CoordinationHealthIndicator {
  constructor(
    @Inject(Coordinator) private readonly coordinator: Coordinator,
    private readonly healthIndicatorService: HealthIndicatorService,
  ) {}

  async isHealthy<const Key extends string = 'coordination'>(
    key: Key = 'coordination' as Key,
    options: CoordinationHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key, 'up' | 'down', CoordinationHealthData>> {
    const { timeoutMs = 1000 } = options;
    const indicator = this.healthIndicatorService.check(key);
    const { memberId, isStarted: started } = this.coordinator;
    const groups = [...this.coordinator.groups].sort();
    const down = (message: string) =>
      indicator.down<CoordinationHealthData>({ memberId, started, reachable: false, groups, leading: [], message });
    if (!started) return down('coordinator is not started');
    try {
      await withTimeout(this.coordinator.ping(), timeoutMs, 'ping');
      // Both answered in memory; the heart keeps them current.
      const leading = groups.filter((groupId) => this.coordinator.isLeaderOf(groupId));
      return indicator.up<CoordinationHealthData>({ memberId, started, reachable: true, groups, leading });
    } catch (error) {
      return down(`backend unreachable: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
