import { describeMember } from '../coordination.messages.js';
import { callGuarded, type MethodGuards } from '../guarded-method.runner.js';

type Method = (...args: unknown[]) => unknown;

/** On a wrapper made here: the undecorated method and the guards gathered so far. */
const GUARDED = Symbol('coordination:guarded');

interface GuardedMethod extends Method {
  [GUARDED]?: { original: Method; guards: MethodGuards };
}

/**
 * Replace the method with a wrapper that runs it under `guards`. It has to
 * be done here, on the class: Nest's router and `@nestjs/schedule` take the
 * prototype's function before any lifecycle hook runs, so a guard installed
 * later would never be called. The wrapper finds the coordinator of the
 * application that owns `this` at call time.
 *
 * `@Leader()` and `@WithLock()` on one method share one wrapper (the second
 * one rebuilds it with both guards), so the leader check comes first in
 * either order. Every reflect-metadata entry of the function replaced is
 * copied: what `@Interval()`, `@Get()`… stored on it when applied below
 * (before) this decorator stays visible; those applied above store theirs on
 * the wrapper directly.
 */
export function guardMethod(
  target: object,
  key: string | symbol,
  descriptor: PropertyDescriptor & { value: Function },
  added: MethodGuards,
): void {
  const replaced = descriptor.value as GuardedMethod;
  const original = replaced[GUARDED]?.original ?? replaced;
  const guards: MethodGuards = { ...replaced[GUARDED]?.guards, ...added };
  const guarded: GuardedMethod = function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const owner = typeof this === 'object' && this !== null ? this : target;
    return callGuarded({ instance: this, method: original, args, guards, where: describeMember(owner, key) });
  };
  for (const metadataKey of Reflect.getOwnMetadataKeys(replaced)) {
    Reflect.defineMetadata(metadataKey, Reflect.getOwnMetadata(metadataKey, replaced), guarded);
  }
  Object.defineProperty(guarded, 'name', { value: original.name });
  Object.defineProperty(guarded, 'length', { value: original.length });
  Object.defineProperty(guarded, GUARDED, { value: { original, guards } });
  descriptor.value = guarded;
}
