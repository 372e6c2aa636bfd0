import { createHash } from 'node:crypto';

/**
 * Where our tables and functions live: `"<schema>"."<table_prefix><name>"`.
 * Schema and prefix are validated identifiers (postgres-options.ts), quoted
 * all the same; every value goes in as a parameter.
 */
export class SchemaNames {
  /** `LISTEN` channel for joins, leaves and leader changes of every group in this schema and prefix. */
  readonly eventsChannel: string;

  constructor(
    readonly schema: string,
    readonly prefix: string,
  ) {
    this.eventsChannel = `nc_events_${createHash('md5').update(`${schema}.${prefix}`).digest('hex').slice(0, 20)}`;
  }

  /** A table, view, sequence or function of ours, schema-qualified and quoted. */
  t(name: string): string {
    return `"${this.schema}"."${this.prefix}${name}"`;
  }

  /** The schema alone, quoted. */
  get quotedSchema(): string {
    return `"${this.schema}"`;
  }

  /** The channel a session is woken on (queued grants, broken holds); the SQL builds the same name. */
  static sessionChannel(sessionKey: bigint): string {
    return `nc_session_${sessionKey}`;
  }

  /** How an events payload names a group: channel payloads are bounded, group ids are not. */
  static groupTag(groupId: string): string {
    return createHash('md5').update(groupId, 'utf8').digest('hex');
  }
}
