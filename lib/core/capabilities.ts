import { decode, encode, ExtensionCodec } from '@msgpack/msgpack';
import { SerializationError } from './errors.js';

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

/** Why `value` cannot be encoded, or null when it can. `path` names the offending part. */
function unencodable(value: unknown, path: string, seen: Set<object>): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return null;
    case 'number':
      return null;
    case 'bigint':
      return `${path} is a bigint; use a number or a string`;
    case 'function':
    case 'symbol':
      return `${path} is a ${typeof value}`;
  }
  if (value === null || value instanceof Uint8Array) return null;
  const object = value as object;
  if (seen.has(object)) return `${path} refers back to itself`;
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const reason = unencodable(object[i], `${path}[${i}]`, seen);
        if (reason) return reason;
      }
      return null;
    }
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      return `${path} is a ${proto?.constructor?.name ?? 'class instance'}; only plain objects, arrays, strings, numbers, booleans, Uint8Array and null are kept`;
    }
    for (const [key, child] of Object.entries(object)) {
      const reason = unencodable(child, `${path}.${key}`, seen);
      if (reason) return reason;
    }
    return null;
  } finally {
    seen.delete(object);
  }
}

/** Encode capabilities for the backend; "none" (undefined/null) is msgpack nil, as tooz writes it. */
export function encodeCapabilities(caps: unknown, groupId: string, memberId: string): Uint8Array {
  const reason = unencodable(caps, 'capabilities', new Set());
  if (reason) {
    throw new SerializationError(
      `Cannot encode the capabilities of member ${memberId} in group ${groupId}: ${reason}`,
      groupId,
      memberId,
    );
  }
  return encode(caps ?? null, { ignoreUndefined: true });
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
