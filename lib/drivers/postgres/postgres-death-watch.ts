import { performance } from 'node:perf_hooks';
import type { Client } from 'pg';
import { openClient } from './postgres-connection.js';
import type { PostgresSettings } from './postgres-options.js';

/** How long one watch statement waits before it looks again at what to watch (lock_timeout). */
export const WATCH_MS = 1_000;

const text = (value: bigint): string => value.toString();

/**
 * A hint source: learns at once when the session a waiter of ours waits for
 * dies (a holder that crashes frees its locks but notifies nobody), and
 * says "look now" (`died`). A second connection, opened the first time an
 * answer names such a session, waits for a shared transaction lock on that
 * session's key, which the session holds while it lives: the server grants
 * it the moment the session's backend ends. It knows no waiter: each answer
 * that names a session renews the watch for a while (`watch(key, forMs)`), so
 * it ends on its own once nobody waits. Each wait lasts at most `WATCH_MS`
 * (`lock_timeout`), so a stale target is replaced within a second and
 * nothing stays blocked in the server for longer (docs/postgresql.md).
 */
export class PostgresDeathWatch {
  private client: Client | undefined;
  private target: bigint | null = null;
  /** Watch until then (performance.now()), unless renewed. */
  private until = 0;
  private running = false;
  private closed = false;

  constructor(
    private readonly settings: PostgresSettings,
    /** The watched session died. */
    private readonly died: () => void,
  ) {}

  /** Watch session `sessionKey` for the next `forMs` (an answer named it as the one a waiter waits for). */
  watch(sessionKey: bigint, forMs: number): void {
    if (this.closed) return;
    this.target = sessionKey;
    this.until = performance.now() + forMs;
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.closed && this.target !== null && performance.now() < this.until) {
        const key = this.target;
        const client = (this.client ??= await this.open());
        try {
          await client.query({ text: 'SELECT pg_advisory_xact_lock_shared($1::bigint)', values: [text(key)] });
        } catch (error) {
          if ((error as { code?: unknown }).code === '55P03') continue; // lock_timeout: still alive
          throw error;
        }
        if (this.closed) return;
        if (this.target === key) this.target = null; // the look that follows says what to watch next
        this.died();
      }
    } catch {
      // The watch connection failed: the next watch() opens another; the rechecks cover meanwhile.
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
