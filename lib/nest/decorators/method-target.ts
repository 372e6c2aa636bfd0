import { MAX_TIMER_MS } from '../coordination.constants.js';
import {
  DECORATOR_NOT_ON_METHOD,
  DECORATOR_TWICE,
  describeMember,
  INVALID_DECORATOR_ARGUMENT,
} from '../coordination.messages.js';

/**
 * Our decorators work on the prototype's method, which Nest finds for routes
 * and `@nestjs/schedule` for jobs. A static method or an accessor is neither,
 * so refuse it where the mistake is made.
 */
export function assertInstanceMethod(
  decorator: string,
  target: object,
  key: string | symbol,
  descriptor: PropertyDescriptor | undefined,
): asserts descriptor is PropertyDescriptor & { value: Function } {
  if (typeof target === 'function' || typeof descriptor?.value !== 'function') {
    throw new TypeError(DECORATOR_NOT_ON_METHOD(decorator, describeMember(target, key)));
  }
}

export function assertNotYetDecorated(
  decorator: string,
  metadataKey: string,
  target: object,
  key: string | symbol,
  method: Function,
): void {
  if (Reflect.hasOwnMetadata(metadataKey, method)) {
    throw new TypeError(DECORATOR_TWICE(decorator, describeMember(target, key)));
  }
}

export function assertGroupId(decorator: string, groupId: unknown): asserts groupId is string {
  if (typeof groupId !== 'string' || groupId.length === 0) {
    throw new TypeError(INVALID_DECORATOR_ARGUMENT(decorator, 'groupId', 'a non-empty string', groupId));
  }
}

/** A timer longer than Node can hold fires after 1 ms: refuse it rather than wait that little. */
export function assertTimerMs(decorator: string, argument: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !(value >= 0) || value > MAX_TIMER_MS)) {
    throw new TypeError(
      INVALID_DECORATOR_ARGUMENT(decorator, argument, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, value),
    );
  }
}
