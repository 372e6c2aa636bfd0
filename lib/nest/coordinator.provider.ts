import { Logger, type FactoryProvider } from '@nestjs/common';
import { Coordinator } from '../core/coordinator.js';
import { getCoordinator } from '../core/driver-registry.js';
import { CoordinationError, DriverChosenPoorlyError } from '../errors.js';
import { redactSecrets, redactUrl } from '../core/url-options.js';
import { COORDINATION_LOGGER_CONTEXT, RESOLVED_COORDINATION_OPTIONS } from './coordination.constants.js';
import { COORDINATION_MODULE_OPTIONS } from './coordination.module-definition.js';
import { COORDINATOR_NOT_CREATED } from './coordination.messages.js';
import { resolveCoordinationOptions, type ResolvedCoordinationOptions } from './coordination-options.resolver.js';

/** The options with defaults filled in; resolved once so the default member id is drawn once. */
export const resolvedOptionsProvider: FactoryProvider<ResolvedCoordinationOptions> = {
  provide: RESOLVED_COORDINATION_OPTIONS,
  useFactory: resolveCoordinationOptions,
  inject: [COORDINATION_MODULE_OPTIONS],
};

/**
 * The `Coordinator` abstract class is the injection token. The coordinator is
 * built (unstarted) here, so an unknown scheme, a bad URL option or a driver
 * lacking the `characteristics` asked for fails the bootstrap; the heart
 * starts it.
 */
export const coordinatorProvider: FactoryProvider<Coordinator> = {
  provide: Coordinator,
  useFactory: (options: ResolvedCoordinationOptions): Coordinator => {
    const logger = new Logger(COORDINATION_LOGGER_CONTEXT);
    try {
      return getCoordinator(options.url, options.memberId, {
        logger: { warn: (message: string) => logger.warn(message) },
        // stop() lets operations in flight (a watchers run stuck in a handler) finish for this long at most, so
        // app.close() stays bounded by shutdown.timeoutMs even after the heart gave up waiting for them.
        stopTimeoutMs: options.shutdownTimeoutMs,
        ...options.driverOptions,
        ...(options.characteristics ? { characteristics: options.characteristics } : {}),
      });
    } catch (error) {
      // It names the driver and what it lacks; the URL is not the mistake.
      if (error instanceof DriverChosenPoorlyError) throw error;
      const reason = redactSecrets(error instanceof Error ? error.message : String(error), options.url);
      throw new CoordinationError(COORDINATOR_NOT_CREATED(redactUrl(options.url), reason));
    }
  },
  inject: [RESOLVED_COORDINATION_OPTIONS],
};
