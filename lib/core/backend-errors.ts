import { inspect } from 'node:util';
import type { Backend } from './backend.js';
import { CoordinationError, CoordinatorConnectionError, OperationTimedOutError } from '../errors.js';

/** What a failed backend call was about, for the message. */
export interface CallContext {
  groupId?: string;
  lockName?: string;
}

/**
 * The one place where a backend's own errors become ours: errors the driver
 * calls connection errors become `CoordinatorConnectionError`, time-outs
 * `OperationTimedOutError`, errors the server answered with (a failed
 * script, say) `CoordinationError`, each naming the operation and the group or lock.
 * Our own errors and programming errors pass through. The driver's secrets
 * are scrubbed from the message, and the original is kept as `cause` only
 * when it holds none of them.
 */
export function translateBackendError(
  error: unknown,
  backend: Backend,
  memberId: string,
  operation: string,
  context: CallContext,
): unknown {
  if (error instanceof CoordinationError) return error;
  const timedOut = backend.isTimeoutError?.(error) ?? false;
  const lostConnection = !timedOut && (backend.isConnectionError?.(error) ?? false);
  const refused = !timedOut && !lostConnection && (backend.isServerError?.(error) ?? false);
  if (!timedOut && !lostConnection && !refused) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const secrets = (backend.secrets ?? []).filter((secret) => secret.length > 0);
  // The whole error as it would be printed, nested causes and fields included (a client error may carry
  // the command that failed, password and all): if a secret is anywhere in it, it is not kept as the cause.
  const printed = inspect(error, { depth: 8 });
  const leaks = secrets.some((secret) => printed.includes(secret));
  const message = secrets.reduce((text, secret) => text.split(secret).join('***'), raw);
  const about = [
    context.groupId !== undefined ? ` on group ${context.groupId}` : '',
    context.lockName !== undefined ? ` on lock ${context.lockName}` : '',
  ].join('');
  const cause = leaks ? undefined : error;
  if (timedOut) {
    return new OperationTimedOutError(`${operation}${about} (member ${memberId})`, backend.commandTimeoutMs ?? 0);
  }
  if (refused)
    return new CoordinationError(`${operation}${about} failed for member ${memberId}: ${message}`, { cause });
  return new CoordinatorConnectionError(`${operation}${about} failed for member ${memberId}: ${message}`, { cause });
}
