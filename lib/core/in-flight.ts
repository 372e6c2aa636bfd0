/**
 * The operations running now, so `stop()` can let them finish before it
 * disconnects: an election won during `stop()` must be given back, not left
 * in the backend for a whole lease.
 */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const done = () => this.running.delete(work);
    work.then(done, done);
    return work;
  }

  /** Resolves when `work` settles, or after `boundMs`; true if it settled. */
  async drainOne(work: Promise<unknown>, boundMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), boundMs)));
    try {
      return await Promise.race([
        work.then(
          () => true as const,
          () => true as const,
        ),
        bound,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when every operation running now has settled, or after `boundMs`; true if all settled. */
  drain(boundMs: number): Promise<boolean> {
    if (this.running.size === 0) return Promise.resolve(true);
    return this.drainOne(Promise.allSettled([...this.running]), boundMs);
  }
}
