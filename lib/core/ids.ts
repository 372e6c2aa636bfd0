/**
 * Ids are non-empty, well-formed strings; anything else is a programming
 * error, thrown synchronously. A lone surrogate has no UTF-8 form, so no
 * backend key, msgpack string or hash-ring node (tooz hashes UTF-8) can hold
 * it: refusing it here keeps one bad id from breaking a group for everyone.
 */
export function assertId(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new TypeError(`${what} must be a non-empty string, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.length === 0) throw new TypeError(`${what} must be a non-empty string, got ''`);
  if (!value.isWellFormed()) {
    throw new TypeError(
      `${what} ${JSON.stringify(value)} is not a well-formed string: it holds a lone surrogate, which has no UTF-8 form`,
    );
  }
}

export function assertCallback(value: unknown, what: string): asserts value is Function {
  if (typeof value !== 'function') throw new TypeError(`${what} must be a function, got ${typeof value}`);
}
