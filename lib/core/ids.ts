/** Ids are non-empty strings; anything else is a programming error, thrown synchronously. */
export function assertId(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new TypeError(`${what} must be a non-empty string, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.length === 0) throw new TypeError(`${what} must be a non-empty string, got ''`);
}

export function assertCallback(value: unknown, what: string): asserts value is Function {
  if (typeof value !== 'function') throw new TypeError(`${what} must be a function, got ${typeof value}`);
}
