import type { Client } from 'pg';
import type { BackendEvents } from '../../core/backend.js';
import type { LockKeys } from './lock-keys.js';
import { isConnectionError, PostgresConnectionDown } from './postgres-connection.js';
import type { SchemaNames } from './schema-names.js';
import { repairStatement, type SqlStatement } from './sql/index.js';
import type { DecodedStatement } from './sql/statement.js';

const text = (value: bigint): string => value.toString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Repair attempts after a failed statement, ms apart; past the last, the connection is dropped. */
const REPAIR_DELAYS_MS = [0, 100, 300, 1_000];

/**
 * What a statement that takes or lets go of advisory locks touched: should
 * it fail, its keys are repaired, and the holds and leaderships named here
 * end at once (a failed release or stand-down is no longer believed).
 */
export interface Touched {
  readonly keys: readonly bigint[];
  readonly holders?: readonly string[];
  readonly groups?: readonly string[];
}

/**
 * The session's one connection and the statements sent on it, one at a
 * time and in order, so that the repair after a failed statement runs
 * before anything else does (docs/postgresql.md#when-a-statement-fails-half-way).
 * `PostgresDriver` owns one and sets the session's key, connection and event
 * sink here as they change; the group functions run their statements on it.
 */
export class PostgresStatements {
  sessionKey = 0n;
  client: Client | undefined;
  events: BackendEvents | undefined;
  constructor(
    readonly names: SchemaNames,
    readonly keys: LockKeys,
    readonly memberId: string,
  ) {}

  /** The last statement sent: the next one waits for it (and for its repair). */
  private tail: Promise<unknown> = Promise.resolve();

  statement(statement: SqlStatement, values: unknown[]) {
    return { name: statement.name, text: statement.text(this.names), values };
  }

  connected(): Client {
    if (!this.client) throw new PostgresConnectionDown('The PostgreSQL session is not connected');
    return this.client;
  }

  /** Run one statement after those before it; `touched` when it takes or lets go of advisory locks. */
  query<R>(statement: SqlStatement, values: unknown[], touched?: Touched): Promise<R[]> {
    const run = this.tail.then(() => this.send<R>(statement, values, touched));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** `query()`, its rows decoded by the statement's own decoder. */
  async ask<A>(statement: DecodedStatement<A>, values: unknown[], touched?: Touched): Promise<A> {
    return statement.decode(await this.query<Record<string, unknown>>(statement, values, touched));
  }

  private async send<R>(statement: SqlStatement, values: unknown[], touched: Touched | undefined): Promise<R[]> {
    const client = this.connected();
    try {
      return (await client.query(this.statement(statement, values))).rows as R[];
    } catch (error) {
      if (error instanceof Error && error.message === 'Query read timeout') {
        // No answer within the client-side limit: the network, not the query, is stuck (a silent drop
        // keeps a socket open for many minutes). Drop the connection: its holds end here and now.
        this.dropConnection(client);
      } else if (touched && client === this.client && !isConnectionError(error)) {
        await this.repair(client, touched);
      }
      throw error;
    }
  }

  /**
   * A statement that touched advisory locks failed: session locks are not
   * transactional, so end the beliefs it was changing now, then make the
   * session's locks on its keys match the rows again. Should that fail too,
   * drop the connection: the server then lets go of every lock it held.
   */
  private async repair(client: Client, touched: Touched): Promise<void> {
    const events = this.events;
    for (const holder of touched.holders ?? []) events?.holdLost(holder);
    for (const groupId of touched.groups ?? []) events?.leadershipLost(groupId);
    const values = [
      text(this.sessionKey),
      touched.keys.map(text),
      [...(touched.holders ?? [])],
      [...(touched.groups ?? [])],
    ];
    for (const delay of REPAIR_DELAYS_MS) {
      if (delay > 0) await sleep(delay);
      if (client !== this.client) return; // dropped meanwhile: its locks went with it
      try {
        const { rows } = await client.query<{ lost_holds: string[]; lost_leaderships: string[] }>(
          this.statement(repairStatement, values),
        );
        for (const holder of rows[0]!.lost_holds) events?.holdLost(holder);
        for (const groupId of rows[0]!.lost_leaderships) events?.leadershipLost(groupId);
        return;
      } catch (error) {
        if (isConnectionError(error) || (error instanceof Error && error.message === 'Query read timeout')) break;
      }
    }
    this.dropConnection(client);
  }

  /** Destroy the socket: 'end' follows, and with it connectionLost and the reconnect. */
  dropConnection(client: Client): void {
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }
}
