import { decode, encode, ExtensionCodec } from '@msgpack/msgpack';
import { SerializationError } from '../errors.js';

/**
 * A member's capabilities: any value that survives msgpack, the encoding tooz
 * uses (`use_bin_type=True`), so Python and Node members read each other's.
 */
export type Capabilities =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | readonly Capabilities[]
  | { readonly [key: string]: Capabilities | undefined };

/**
 * tooz (oslo.serialization msgpackutils) writes some Python types as ext
 * types; read the ones with a plain JSON-like meaning (uuid as its hex string,
 * set and frozenset as arrays). Others decode as an error naming the code.
 */
const toozExtensions = new ExtensionCodec();
toozExtensions.register({ type: 0, encode: () => null, decode: (data) => new TextDecoder().decode(data) });
for (const type of [4, 5]) {
  toozExtensions.register({
    type,
    encode: () => null,
    decode: (data) => decode(data, { extensionCodec: toozExtensions }),
  });
}

/**
 * How deeply values may nest, counting the capabilities themselves as 1: the
 * msgpack encoder's limit (its `DEFAULT_MAX_DEPTH`), passed to it explicitly
 * so the check below and the encoder cannot drift apart. msgpack-python, which
 * tooz reads with, nests deeper.
 */
const MAX_DEPTH = 100;

/** What cannot be encoded, and where. */
interface Unencodable {
  path: string;
  reason: string;
}

/** Why `value` cannot be encoded (or read back), or null when it can. `depth` counts the top level as 1. */
function unencodable(value: unknown, path: string, depth: number, seen: Set<object>): Unencodable | null {
  if (depth > MAX_DEPTH) return { path, reason: `nests deeper than ${MAX_DEPTH} levels` };
  const found = (reason: string): Unencodable => ({ path, reason });
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return null;
    case 'number':
      return null;
    case 'bigint':
      return found('is a bigint; use a number or a string');
    case 'function':
    case 'symbol':
      return found(`is a ${typeof value}`);
  }
  if (value === null || value instanceof Uint8Array) return null;
  const object = value as object;
  if (seen.has(object)) return found('refers back to itself');
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const reason = unencodable(object[i], `${path}[${i}]`, depth + 1, seen);
        if (reason) return reason;
      }
      return null;
    }
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      return found(
        `is a ${proto?.constructor?.name ?? 'class instance'}; only plain objects, arrays, strings, numbers, booleans, Uint8Array and null are kept`,
      );
    }
    for (const [key, child] of Object.entries(object)) {
      const childPath = `${path}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`;
      // The msgpack decoder refuses this key (prototype pollution), so every
      // read of the group would fail, for every member.
      if (key === '__proto__') return { path: childPath, reason: 'is an own __proto__ key, which cannot be read back' };
      // Dropped on encoding (ignoreUndefined), so not nested at all.
      if (child === undefined) continue;
      const reason = unencodable(child, childPath, depth + 1, seen);
      if (reason) return reason;
    }
    return null;
  } finally {
    seen.delete(object);
  }
}

/** Encode capabilities for the backend; "none" (undefined/null) is msgpack nil, as tooz writes it. */
/**
 * Checked in full before anything is written: a value that could be written
 * but not read back would break every read of the group.
 */
export function encodeCapabilities(caps: unknown, groupId: string, memberId: string): Uint8Array {
  const problem = unencodable(caps, 'capabilities', 1, new Set());
  if (problem) {
    throw new SerializationError(
      `Cannot encode the capabilities of member ${memberId} in group ${groupId}: ${shortPath(problem.path)} ${problem.reason}`,
      groupId,
      memberId,
      problem.path,
    );
  }
  return encode(caps ?? null, { ignoreUndefined: true, maxDepth: MAX_DEPTH });
}

/** A path for a message: a deep one keeps its start and its end. */
function shortPath(path: string): string {
  return path.length <= 160 ? path : `${path.slice(0, 80)}…${path.slice(-60)}`;
}

/** Decode stored capabilities; nil and an empty bin (tooz 3.x's default `b""`) both mean none: `{}`. */
export function decodeCapabilities(raw: Uint8Array, groupId: string, memberId: string): Capabilities {
  let value: unknown;
  try {
    value = decode(raw, { extensionCodec: toozExtensions });
  } catch (error) {
    throw new SerializationError(
      `Cannot decode the capabilities of member ${memberId} in group ${groupId}: ${(error as Error).message}`,
      groupId,
      memberId,
    );
  }
  if (value === null || value === undefined) return {};
  if (value instanceof Uint8Array && value.length === 0) return {};
  return value as Capabilities;
}
