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

  /** Resolves when every operation running now has settled, or after `boundMs`; true if all settled. */
  async drain(boundMs: number): Promise<boolean> {
    if (this.running.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), boundMs)));
    const all = Promise.allSettled([...this.running]).then(() => true as const);
    try {
      return await Promise.race([all, bound]);
    } finally {
      clearTimeout(timer);
    }
  }
}
