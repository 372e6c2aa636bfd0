import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Coordinator, type Partitioner } from '../lib/index.js';
import { ITEMS_GROUP } from './sample.constants.js';

const ITEMS = Array.from({ length: 12 }, (_, i) => `item-${i + 1}`);

/** Splits the work items across the running instances with the partitioner. */
@Injectable()
export class WorkItems implements OnApplicationBootstrap, OnApplicationShutdown {
  private partitioner: Partitioner | undefined;

  constructor(private readonly coordinator: Coordinator) {}

  async onApplicationBootstrap(): Promise<void> {
    this.partitioner = await this.coordinator.joinPartitionedGroup(ITEMS_GROUP);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.partitioner && this.coordinator.isStarted) {
      await this.coordinator.leavePartitionedGroup(this.partitioner).catch(() => undefined);
    }
  }

  /** Item → the member that owns it. */
  owners(): Record<string, string> {
    const owners: Record<string, string> = {};
    for (const item of ITEMS) owners[item] = [...(this.partitioner?.membersForObject(item) ?? [])][0] ?? '';
    return owners;
  }

  mine(): string[] {
    return ITEMS.filter((item) => this.partitioner?.belongsToSelf(item));
  }
}
