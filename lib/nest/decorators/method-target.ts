import { DECORATOR_NOT_ON_METHOD, DECORATOR_TWICE, INVALID_DECORATOR_ARGUMENT } from '../coordination.messages.js';

/** `Class.method` for messages. */
export function describeMember(target: object, key: string | symbol): string {
  const owner = typeof target === 'function' ? target.name : target.constructor?.name;
  return `${owner ?? 'anonymous class'}.${String(key)}`;
}

/**
 * Our decorators only record metadata; the explorer wraps the method on each
 * instance at bootstrap. A static method or an accessor would never be found
 * there, so refuse it where the mistake is made.
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
