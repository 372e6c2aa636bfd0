import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { Leader } from '../lib/index.js';
import { SAMPLE_GROUP } from './sample.constants.js';

/** A job that must run on one instance only: whichever leads the group. */
@Injectable()
export class ReportJob {
  private readonly logger = new Logger(ReportJob.name);
  runs = 0;

  @Interval(5_000)
  @Leader(SAMPLE_GROUP)
  report(): void {
    this.runs++;
    this.logger.log(`I lead ${SAMPLE_GROUP}: writing report #${this.runs}`);
  }
}
