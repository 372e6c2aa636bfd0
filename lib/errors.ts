/**
 * Every error the package raises on purpose extends `CoordinationError`, and
 * carries the group, member, lock or callback involved as fields, so callers
 * can branch on them without parsing messages.
 *
 * A leaf module: it imports nothing, so the core and the hash ring can both
 * depend on it without depending on each other.
 */
export class CoordinationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class GroupNotCreatedError extends CoordinationError {
  constructor(readonly groupId: string) {
    super(`Group ${groupId} does not exist`);
  }
}

export class GroupAlreadyExistError extends CoordinationError {
  constructor(readonly groupId: string) {
    super(`Group ${groupId} already exists`);
  }
}

export class MemberAlreadyExistError extends CoordinationError {
  constructor(
    readonly groupId: string,
    readonly memberId: string,
  ) {
    super(`Member ${memberId} has already joined ${groupId}`);
  }
}

export class MemberNotJoinedError extends CoordinationError {
  constructor(
    readonly groupId: string,
    readonly memberId: string,
  ) {
    super(`Member ${memberId} has not joined ${groupId}`);
  }
}

export class GroupNotEmptyError extends CoordinationError {
  constructor(readonly groupId: string) {
    super(`Group ${groupId} is not empty`);
  }
}

export class WatchCallbackNotFoundError extends CoordinationError {
  constructor(
    readonly groupId: string,
    readonly callback: Function,
  ) {
    super(`Callback ${callback.name || '<anonymous>'} is not registered on group ${groupId}`);
  }
}

export class OperationTimedOutError extends CoordinationError {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation} did not finish within ${timeoutMs} ms`);
  }
}

export class LockAcquireFailedError extends CoordinationError {
  constructor(readonly lockName: string) {
    super(`Acquiring lock ${lockName} failed`);
  }
}

/** The backend could not be reached or refused us; the message never holds a password. */
export class CoordinatorConnectionError extends CoordinationError {}

export class DriverChosenPoorlyError extends CoordinationError {
  constructor(
    readonly missing: readonly string[],
    readonly driver: string,
  ) {
    super(`Driver ${driver} lacks the required characteristics: ${missing.join(', ')}`);
  }
}

export class NotImplementedError extends CoordinationError {}

export class UnknownNodeError extends CoordinationError {
  constructor(readonly node: string) {
    super(`Unknown node ${node}`);
  }
}

/**
 * Capabilities that the backend's encoding (msgpack, as tooz) cannot carry.
 * `path` names the offending part (`capabilities.a[2]`) when one is to blame.
 */
export class SerializationError extends CoordinationError {
  constructor(
    message: string,
    readonly groupId?: string,
    readonly memberId?: string,
    readonly path?: string,
  ) {
    super(message);
  }
}
