import type { Redis } from 'ioredis';

/** What the connections tell their driver, and the one thing they ask of it. */
export interface SessionConnectionHooks {
  /** Either connection dropped: every hold and leadership ends now. */
  lost(): void;
  /** Both are back and the session channel's subscription is confirmed. */
  restored(): void;
  /** Subscribe the session channel again on `subscriber` (resolves once Redis confirmed it). */
  subscribeAgain(subscriber: Redis): Promise<void>;
}

/**
 * A session's two connections (commands, and the subscriber of its channel)
 * and whether the session may be granted anything now: both up, and Redis
 * has confirmed the session channel's subscription (ioredis says `ready`
 * before it subscribes again). Others may see the session as gone while it
 * is not, so nothing is granted or won then (docs/redis.md#failover).
 */
export class SessionConnections {
  private client: Redis | undefined;
  private subscriber: Redis | undefined;
  private readonly down = new Set<Redis>();
  private subscribed = false;
  /** Bumped by every subscriber drop: a re-subscription that a newer drop overtook confirms nothing. */
  private epoch = 0;
  /** Set while the session stops: drops are expected then. */
  closing = false;

  constructor(private readonly hooks: SessionConnectionHooks) {}

  /** Follow a freshly connected, subscribed pair. */
  follow(client: Redis, subscriber: Redis): void {
    this.client = client;
    this.subscriber = subscriber;
    this.down.clear();
    this.subscribed = true;
    this.closing = false;
    for (const connection of [client, subscriber]) {
      connection.on('close', () => this.closed(connection));
      connection.on('ready', () => this.ready(connection));
    }
  }

  /** Both connections up and the session channel's subscription confirmed. Releases, leaves and reads need not wait. */
  get granting(): boolean {
    return (
      !this.closing &&
      this.subscribed &&
      this.down.size === 0 &&
      this.client?.status === 'ready' &&
      this.subscriber?.status === 'ready'
    );
  }

  private closed(connection: Redis): void {
    if (connection !== this.client && connection !== this.subscriber) return; // a stopped session's
    if (connection === this.subscriber) {
      this.subscribed = false;
      this.epoch++;
    }
    if (this.closing || this.down.has(connection)) return;
    const first = this.down.size === 0;
    this.down.add(connection);
    if (first) this.hooks.lost();
  }

  private ready(connection: Redis): void {
    if (this.closing || (connection !== this.client && connection !== this.subscriber)) return;
    if (connection === this.subscriber) void this.confirm(connection);
    else this.back(connection);
  }

  private async confirm(subscriber: Redis): Promise<void> {
    const epoch = this.epoch;
    try {
      await this.hooks.subscribeAgain(subscriber);
    } catch {
      return; // dropped again: the next `ready` tries again
    }
    if (epoch !== this.epoch || this.closing || subscriber !== this.subscriber) return;
    this.subscribed = true;
    this.back(subscriber);
  }

  private back(connection: Redis): void {
    if (!this.down.delete(connection) || this.down.size > 0) return;
    this.hooks.restored();
  }
}
