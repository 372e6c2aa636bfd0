import { Controller, Get } from '@nestjs/common';
import { Coordinator } from '../lib/index.js';
import { ITEMS_GROUP, SAMPLE_GROUP } from './sample.constants.js';
import { WorkItems } from './work-items.service.js';

@Controller()
export class StatusController {
  constructor(
    private readonly coordinator: Coordinator,
    private readonly items: WorkItems,
  ) {}

  /** This member, its groups, the members of the sample group and who leads it. */
  @Get('status')
  async status() {
    const leader = await this.coordinator.getLeader(SAMPLE_GROUP);
    return {
      memberId: this.coordinator.memberId,
      groups: [...this.coordinator.groups].sort(),
      members: [...(await this.coordinator.getMembers(SAMPLE_GROUP))].sort(),
      leader,
      isLeader: leader === this.coordinator.memberId,
    };
  }

  /** Which member owns which work item, and the items this member owns. */
  @Get('items')
  workItems() {
    return { group: ITEMS_GROUP, owners: this.items.owners(), mine: this.items.mine() };
  }
}
