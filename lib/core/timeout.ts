import { OperationTimedOutError } from '../errors.js';

/** The longest delay a Node timer takes; a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2_147_483_647;

/** `ms` as a safe timer delay. Callers that clamp a long wait look again when the timer fires. */
export const timerDelay = (ms: number): number => Math.min(Math.max(0, ms), MAX_TIMER_MS);

/**
 * Resolve as `work` does, or reject with `OperationTimedOutError` after
 * `timeoutMs` (the work goes on, as in tooz). No bound when `timeoutMs` is
 * undefined or beyond a timer's range (~24.8 days).
 */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number | undefined, operation: string): Promise<T> {
  if (timeoutMs === undefined || timeoutMs >= MAX_TIMER_MS) return work;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OperationTimedOutError(operation, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
