import { Inject, Injectable, Logger } from '@nestjs/common';
import { Coordinator } from '../core/coordinator.js';
import type { WatchCallback } from '../core/coordinator-options.js';
import { GroupAlreadyExistError, MemberAlreadyExistError } from '../errors.js';
import { COORDINATION_LOGGER_CONTEXT, RESOLVED_COORDINATION_OPTIONS } from './coordination.constants.js';
import { ALREADY_MEMBER, HANDLER_FAILED } from './coordination.messages.js';
import type { ResolvedCoordinationOptions } from './coordination-options.resolver.js';
import type { GroupEventKind } from './interfaces/coordination-metadata.interface.js';

/** A group-event handler method the explorer found. */
export interface HandlerMethod {
  instance: object;
  key: string;
  /** `@OnMemberJoined()`…, for messages. */
  decorator: string;
  /** `Class.method`, for messages. */
  where: string;
}

interface GroupHandler {
  event: GroupEventKind;
  groupId: string;
  callback: WatchCallback<unknown>;
}

/** One shutdown step; it logs a failure and goes on. */
export type ShutdownStep = (what: string, work: () => Promise<unknown>) => Promise<void>;

/**
 * The groups this member is in because of the application: those of the
 * `groups` option, and those the explorer found decorators for (`@Leader()`
 * and `@OnLeaderElected()` groups are joined and run for; `@OnMemberJoined()`
 * and `@OnMemberLeft()` groups are watched). Joined and watched at bootstrap,
 * stood down from and left at shutdown.
 */
@Injectable()
export class MemberGroups {
  private readonly logger = new Logger(COORDINATION_LOGGER_CONTEXT);
  private readonly leaderGroups = new Set<string>();
  private readonly handlers: GroupHandler[] = [];
  /** Groups joined at bootstrap, to leave at shutdown. */
  private readonly joined = new Set<string>();

  constructor(
    @Inject(Coordinator) private readonly coordinator: Coordinator,
    @Inject(RESOLVED_COORDINATION_OPTIONS) private readonly options: ResolvedCoordinationOptions,
  ) {}

  // ---- What the explorer found ---------------------------------------------

  /** A `@Leader(groupId)` method exists: join `groupId` and run for it. */
  addLeaderGroup(groupId: string): void {
    this.leaderGroups.add(groupId);
  }

  addGroupHandler(event: GroupEventKind, groupId: string, handler: HandlerMethod): void {
    this.handlers.push({ event, groupId, callback: this.watchCallback(handler) });
  }

  /** Calls the handler on its instance; a throw is logged with the handler's name, never propagated. */
  private watchCallback({ instance, key, decorator, where }: HandlerMethod): WatchCallback<unknown> {
    return async (event) => {
      try {
        return await (instance as Record<string, (event: unknown) => unknown>)[key]!.call(instance, event);
      } catch (error) {
        this.logger.error(HANDLER_FAILED(decorator, where, error), error instanceof Error ? error.stack : undefined);
        return undefined;
      }
    };
  }

  // ---- Bootstrap -------------------------------------------------------------

  /** Configured groups with their capabilities, then the groups candidates must be in. */
  async join(): Promise<void> {
    const wanted = new Map(this.options.groups);
    for (const groupId of this.candidacyGroups()) if (!wanted.has(groupId)) wanted.set(groupId, undefined);
    for (const [groupId, capabilities] of wanted) {
      try {
        await this.coordinator.joinGroupCreate(groupId, capabilities);
      } catch (error) {
        if (!(error instanceof MemberAlreadyExistError)) throw error;
        this.logger.warn(ALREADY_MEMBER(groupId, this.coordinator.memberId));
        if (capabilities !== undefined) await this.coordinator.updateCapabilities(groupId, capabilities);
      }
      this.joined.add(groupId);
    }
  }

  /** Register the handlers' watchers and run for the candidacy groups (the election itself is the next `runWatchers()`). */
  async watch(): Promise<void> {
    for (const { event, groupId, callback } of this.handlers) {
      if (event === 'elected') continue;
      // Watching needs the group; another member may create and fill it later.
      await this.coordinator.createGroup(groupId).catch((error: unknown) => {
        if (!(error instanceof GroupAlreadyExistError)) throw error;
      });
      if (event === 'joined') await this.coordinator.watchJoinGroup(groupId, callback);
      else await this.coordinator.watchLeaveGroup(groupId, callback);
    }
    for (const groupId of this.leaderGroups) await this.coordinator.watchElectedAsLeader(groupId, () => undefined);
    for (const { event, groupId, callback } of this.handlers) {
      if (event === 'elected') await this.coordinator.watchElectedAsLeader(groupId, callback);
    }
  }

  // ---- Shutdown --------------------------------------------------------------

  /** Stand down from every group this member leads, so another wins at once; then leave what bootstrap joined. */
  async standDownAndLeave(step: ShutdownStep): Promise<void> {
    for (const groupId of this.candidacyGroups()) {
      if (this.coordinator.isLeaderOf(groupId)) {
        await step(`standing down from group ${groupId}`, () => this.coordinator.standDownGroupLeader(groupId));
      }
    }
    for (const groupId of this.joined) {
      if (this.coordinator.groups.has(groupId)) {
        await step(`leaving group ${groupId}`, () => this.coordinator.leaveGroup(groupId));
      }
    }
  }

  /** Groups this member runs for: `@Leader()` and `@OnLeaderElected()`. */
  private candidacyGroups(): Set<string> {
    const groups = new Set(this.leaderGroups);
    for (const { event, groupId } of this.handlers) if (event === 'elected') groups.add(groupId);
    return groups;
  }
}
