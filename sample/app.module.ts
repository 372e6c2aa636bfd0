import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { CoordinationModule } from '../lib/index.js';
import { CleanupJob } from './cleanup.job.js';
import { ReportJob } from './report.job.js';
import { SAMPLE_GROUP } from './sample.constants.js';
import { StatusController } from './status.controller.js';
import { WorkItems } from './work-items.service.js';

@Module({
  imports: [
    // For the @Interval() jobs; CoordinationModule's heart uses it too, and does not import one of its own.
    ScheduleModule.forRoot(),
    CoordinationModule.forRoot({
      url: process.env.COORDINATION_URL ?? 'memory://',
      // Unset: host name, pid and a random suffix, unique per process.
      memberId: process.env.COORDINATION_MEMBER_ID || undefined,
      groups: [{ groupId: SAMPLE_GROUP, capabilities: { pid: process.pid } }],
    }),
  ],
  controllers: [StatusController],
  providers: [ReportJob, CleanupJob, WorkItems],
})
export class AppModule {}
