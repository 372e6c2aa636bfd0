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
 * A statement with the one decoder of its rows: its codes are read here,
 * beside the SQL that writes them, into a named type.
 */
export interface DecodedStatement<Answer> extends SqlStatement {
  decode(rows: readonly Record<string, unknown>[]): Answer;
}

/** The one row a function call answers. */
export const onlyRow = (rows: readonly Record<string, unknown>[]): Record<string, unknown> => {
  if (rows.length !== 1) throw new Error(`Expected one row, got ${rows.length}`);
  return rows[0]!;
};

/**
 * The key of the transaction-level advisory locks that serialise one lock's
 * queue (two-int form, class 28227 = 0x6E43, "nC"): tooz's keys use classes
 * below 256, and our other keys the one-bigint form, so they never meet.
 */
export const MUTEX_CLASS = 28227;
