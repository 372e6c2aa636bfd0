import type { Client } from 'pg';
import { openClient } from './postgres-connection.js';
import type { PostgresSettings } from './postgres-options.js';

/** How long one watch statement waits before it looks again at what to watch (lock_timeout). */
export const WATCH_MS = 1_000;

const text = (value: bigint): string => value.toString();

/**
 * Learns at once when the session our head waiter waits for dies: a holder
 * that crashes frees its locks but notifies nobody. A second connection,
 * opened the first time one of our waiters is at the head of a queue behind
 * another session, waits for a shared transaction lock on that session's
 * key, which the session holds while it lives: the server grants it the
 * moment the session's backend ends, and the waiters look again at once.
 * Each wait lasts at most `WATCH_MS` (`lock_timeout`) and is renewed while
 * needed, so a stale target is replaced within a second and nothing stays
 * blocked in the server for longer after the last waiter (docs/postgresql.md).
 */
export class PostgresDeathWatch {
  private client: Client | undefined;
  private target: bigint | null = null;
  private running = false;
  private closed = false;

  constructor(
    private readonly settings: PostgresSettings,
    /** The watched session died. */
    private readonly died: () => void,
  ) {}

  /** The session to watch now, or null for none. */
  watch(sessionKey: bigint | null): void {
    if (this.closed) return;
    this.target = sessionKey;
    if (sessionKey !== null && !this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.closed && this.target !== null) {
        const key = this.target;
        const client = (this.client ??= await this.open());
        try {
          await client.query({ text: 'SELECT pg_advisory_xact_lock_shared($1::bigint)', values: [text(key)] });
        } catch (error) {
          if ((error as { code?: unknown }).code === '55P03') continue; // lock_timeout: still alive
          throw error;
        }
        if (this.closed) return;
        if (this.target === key) this.target = null; // the waiters' next look says what to watch next
        this.died();
      }
    } catch {
      // The watch connection failed: the next watch() opens another; the poll covers meanwhile.
      this.drop();
    } finally {
      this.running = false;
    }
  }

  private async open(): Promise<Client> {
    const client = await openClient(this.settings);
    try {
      await client.query(`SET statement_timeout = 0; SET lock_timeout = ${WATCH_MS}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    client.on('end', () => {
      if (this.client === client) this.client = undefined;
    });
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('closed');
    }
    return client;
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    void client?.end().catch(() => undefined);
  }

  /** Stop watching for good (the session ends); a wait in flight ends within `WATCH_MS`. */
  close(): void {
    this.closed = true;
    this.target = null;
    this.drop();
  }

  /** Watch again after a close (a new session). */
  reopen(): void {
    this.closed = false;
  }
}
