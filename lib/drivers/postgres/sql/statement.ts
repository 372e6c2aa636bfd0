import type { SchemaNames } from '../schema-names.js';

/** A piece of the schema, created at `start()` if absent (tables, views, functions). */
export interface SqlDefinition {
  create(names: SchemaNames): string;
}

/**
 * One statement the driver sends, always with parameters. `name` makes pg
 * prepare it once per connection (Parse is sent on first use only).
 */
export interface SqlStatement {
  readonly name: string;
  text(names: SchemaNames): string;
}

/**
 * The key of the transaction-level advisory locks that serialise one lock's
 * queue (two-int form, class 28227 = 0x6E43, "nC"): tooz's keys use classes
 * below 256, and our other keys the one-bigint form, so they never meet.
 */
export const MUTEX_CLASS = 28227;
