import { timerDelay } from './timeout.js';

/**
 * Beats in the background: calls `beat()`, waits the interval it returns,
 * again. A failed beat is reported and retried after a second (tooz's heart
 * retries forever too). The timer is unref'd, like tooz's daemon thread: a
 * heart alone does not keep the process alive.
 */
export class Heart {
  private running = false;
  /** Bumped on every start and stop, so a beat that outlives a restart cannot fork a second loop. */
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly beat: () => Promise<number>,
    private readonly onError: (error: unknown) => void,
  ) {}

  get isAlive(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop(++this.generation);
  }

  /** Stop beating and wait for a beat in flight, so none reaches the backend after this resolves. */
  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private loop(generation: number): void {
    this.inFlight = (async () => {
      let nextMs: number;
      try {
        nextMs = await this.beat();
      } catch (error) {
        this.onError(error);
        nextMs = 1000;
      }
      if (!this.running || generation !== this.generation) return;
      this.timer = setTimeout(() => this.loop(generation), timerDelay(nextMs));
      this.timer.unref();
    })();
  }
}
