import { OperationTimedOutError } from './errors.js';

/** Resolve as `work` does, or reject with `OperationTimedOutError` after `timeoutMs` (the work goes on, as in tooz). */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number | undefined, operation: string): Promise<T> {
  if (timeoutMs === undefined) return work;
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
