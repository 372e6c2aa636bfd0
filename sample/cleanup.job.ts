import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { WithLock } from '../lib/index.js';

/**
 * A job any instance may run, but never two at once: whoever gets the lock
 * runs it, the others skip this tick.
 */
@Injectable()
export class CleanupJob {
  private readonly logger = new Logger(CleanupJob.name);

  @Interval(3_000)
  @WithLock('sample-cleanup', { blocking: false, onLocked: 'skip' })
  async cleanup(): Promise<void> {
    this.logger.log('Holding sample-cleanup: cleaning up');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
