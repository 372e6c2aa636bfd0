import { createHash, getHashes } from 'node:crypto';
import { CoordinationError, UnknownNodeError } from '../errors.js';

export interface HashRingOptions {
  /** Points per unit of weight (tooz's `partitions`). Default 32. */
  partitions?: number;
  /** A tooz (Python `hashlib`) name, e.g. `md5`, `sha256`, `sha3_256`, `blake2b`. Default `md5`. */
  hashFunction?: string;
}

export interface GetNodesOptions {
  ignoreNodes?: Iterable<string>;
  /** How many distinct nodes to return; capped at the nodes not ignored. Default 1. */
  replicas?: number;
}

/**
 * The hash functions tooz accepts (Python's `hashlib` names, which is what a
 * tooz config holds) that Node's crypto also has, with Node's spelling.
 * `shake_128`/`shake_256` are left out: tooz takes `hexdigest()` without a
 * length, which fails for them, so no tooz ring can use them.
 */
const HASH_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['md5', 'md5'],
  ['sha1', 'sha1'],
  ['sha224', 'sha224'],
  ['sha256', 'sha256'],
  ['sha384', 'sha384'],
  ['sha512', 'sha512'],
  ['sha512_224', 'sha512-224'],
  ['sha512_256', 'sha512-256'],
  ['sha3_224', 'sha3-224'],
  ['sha3_256', 'sha3-256'],
  ['sha3_384', 'sha3-384'],
  ['sha3_512', 'sha3-512'],
  ['blake2b', 'blake2b512'],
  ['blake2s', 'blake2s256'],
  ['ripemd160', 'ripemd160'],
  ['sm3', 'sm3'],
  ['md5-sha1', 'md5-sha1'],
]);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Consistent hash ring placing data on nodes exactly as tooz's `HashRing`
 * does, so Python and Node members agree on owners:
 *
 * - a node of weight w gets `partitions × w` points; point i is the hash of
 *   the node's UTF-8 bytes repeated i + 2 times (tooz feeds one cumulative
 *   hash object). Weight 0 gives a node no points: it is known (`nodes`,
 *   `ignoreNodes`) but owns nothing;
 * - data belongs to the first point strictly greater than its hash, wrapping
 *   round, and replicas walk on clockwise to further distinct nodes.
 *
 * Points are kept as lowercase hex digests: every digest of one function has
 * the same width, so comparing the strings compares tooz's big integers.
 *
 * tooz quirks kept on purpose, because they change placement:
 * - two points that collide keep the node written last;
 * - adding a node that is already on the ring adds its points again and keeps
 *   only the new weight, so `removeNode` later deletes `partitions × weight`
 *   points and any extra ones stay behind, still answering with the removed
 *   node (add weight 3, add weight 1, remove: 64 stale points at 32 partitions).
 *
 * Node names are strings. A `Uint8Array` node (tooz allows bytes) must be
 * valid UTF-8 and is known by its decoding; its bytes are what get hashed,
 * which is the same thing. Non-UTF-8 bytes, empty names and strings with lone
 * surrogates (Python cannot encode them) are rejected with a `TypeError`.
 *
 * Where tooz would spin for ever (more replicas wanted than nodes with
 * points, e.g. beside a weight-0 node) or fail (a ring of weight-0 nodes
 * only), `getNodes` returns the nodes it found in one lap round the ring.
 */
export class HashRing {
  readonly partitions: number;
  readonly hashFunction: string;
  readonly #algorithm: string;
  readonly #nodes = new Map<string, number>();
  readonly #owners = new Map<string, string>();
  #points: string[] = [];

  constructor(nodes: Iterable<string | Uint8Array> = [], options: HashRingOptions = {}) {
    const { partitions = 32, hashFunction = 'md5' } = options;
    assertPositiveInteger(partitions, 'partitions');
    this.partitions = partitions;
    this.hashFunction = hashFunction;
    this.#algorithm = nodeAlgorithm(hashFunction);
    this.addNodes(nodes);
  }

  /** Node → weight of every node on the ring. */
  get nodes(): ReadonlyMap<string, number> {
    return this.#nodes;
  }

  /** Number of points on the ring (tooz's `len(ring)`). */
  get size(): number {
    return this.#points.length;
  }

  addNode(node: string | Uint8Array, weight = 1): void {
    this.addNodes([node], weight);
  }

  addNodes(nodes: Iterable<string | Uint8Array>, weight = 1): void {
    assertWeight(weight);
    // Check every node before touching the ring, so a bad one changes nothing.
    const named = new Map<string, Uint8Array>();
    for (const node of nodes) {
      const [name, bytes] = nodeKey(node);
      named.set(name, bytes);
    }
    if (named.size === 0) return;
    for (const [name, bytes] of named) {
      for (const point of this.#pointsOf(bytes, this.partitions * weight)) this.#owners.set(point, name);
      this.#nodes.set(name, weight);
    }
    this.#points = [...this.#owners.keys()].sort();
  }

  removeNode(node: string | Uint8Array): void {
    const [name, bytes] = nodeKey(node);
    const weight = this.#nodes.get(name);
    if (weight === undefined) throw new UnknownNodeError(name);
    for (const point of this.#pointsOf(bytes, this.partitions * weight)) this.#owners.delete(point);
    this.#nodes.delete(name);
    this.#points = [...this.#owners.keys()].sort();
  }

  /** The nodes `data` maps onto; strings are hashed as their UTF-8 bytes. */
  getNodes(data: string | Uint8Array, options: GetNodesOptions = {}): Set<string> {
    const { replicas = 1 } = options;
    if (!Number.isInteger(replicas)) throw new TypeError(`replicas must be an integer, got ${String(replicas)}`);
    const ignored = new Set(options.ignoreNodes ?? []);
    let candidates = 0;
    for (const node of this.#nodes.keys()) if (!ignored.has(node)) candidates++;
    const wanted = Math.min(replicas, candidates);

    const found = new Set<string>();
    const points = this.#points;
    let position = bisectRight(points, this.#digest(dataBytes(data)));
    if (position === points.length) position = 0;
    // One lap is enough: tooz would spin forever where this gives up, and it
    // reads no point twice before that.
    for (let step = 0; found.size < wanted && step < points.length; step++) {
      const owner = this.#owners.get(points[position])!;
      if (!ignored.has(owner)) found.add(owner);
      position = position + 1 === points.length ? 0 : position + 1;
    }
    return found;
  }

  *#pointsOf(key: Uint8Array, count: number): Generator<string> {
    const hash = createHash(this.#algorithm).update(key);
    for (let i = 0; i < count; i++) {
      hash.update(key);
      yield hash.copy().digest('hex');
    }
  }

  #digest(data: Uint8Array): string {
    return createHash(this.#algorithm).update(data).digest('hex');
  }
}

function nodeAlgorithm(hashFunction: string): string {
  const algorithm = HASH_FUNCTIONS.get(hashFunction);
  if (algorithm === undefined || !getHashes().includes(algorithm)) {
    const supported = [...HASH_FUNCTIONS].filter(([, a]) => getHashes().includes(a)).map(([name]) => name);
    throw new CoordinationError(
      `Hash function ${String(hashFunction)} is not supported, supported are ${supported.join(', ')}`,
    );
  }
  return algorithm;
}

function nodeKey(node: unknown): [name: string, bytes: Uint8Array] {
  if (typeof node === 'string') {
    if (node.length === 0) throw new TypeError('A hash ring node must be a non-empty string');
    return [node, Buffer.from(wellFormed(node, 'node'), 'utf8')];
  }
  if (node instanceof Uint8Array) {
    let name: string;
    try {
      name = utf8.decode(node);
    } catch {
      throw new TypeError(
        `A hash ring node given as bytes must be valid UTF-8, got 0x${Buffer.from(node).toString('hex')}`,
      );
    }
    if (name.length === 0) throw new TypeError('A hash ring node must be a non-empty string');
    return [name, node];
  }
  throw new TypeError(`A hash ring node must be a string or a Uint8Array, got ${node === null ? 'null' : typeof node}`);
}

function dataBytes(data: unknown): Uint8Array {
  if (typeof data === 'string') return Buffer.from(wellFormed(data, 'data'), 'utf8');
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`Hash ring data must be a string or a Uint8Array, got ${data === null ? 'null' : typeof data}`);
}

/** Python's UTF-8 encoder refuses lone surrogates; Node would silently write U+FFFD. */
function wellFormed(text: string, what: string): string {
  if (!text.isWellFormed()) {
    throw new TypeError(
      `Hash ring ${what} ${JSON.stringify(text)} is not a well-formed string (it holds a lone surrogate, which has no UTF-8 form)`,
    );
  }
  return text;
}

/**
 * The largest weight a node may have. tooz sets none, but a node costs
 * `partitions × weight` hashes and points on every member's ring: weight
 * 2^40 would freeze them all.
 */
export const MAX_WEIGHT = 10_000;

/**
 * A node's weight: how many times `partitions` points it gets. Like tooz, 0
 * is allowed and gives no points; negative, fractional, non-finite and
 * non-number weights, and weights above `MAX_WEIGHT`, are refused with a
 * `TypeError` naming the value.
 */
export function assertWeight(weight: unknown): asserts weight is number {
  if (!isValidWeight(weight)) {
    throw new TypeError(
      `weight must be a non-negative integer up to ${MAX_WEIGHT}, got ${typeof weight === 'string' ? JSON.stringify(weight) : String(weight)}`,
    );
  }
}

/** `assertWeight` as a question, for weights read from peers. */
export function isValidWeight(weight: unknown): weight is number {
  return typeof weight === 'number' && Number.isInteger(weight) && weight >= 0 && weight <= MAX_WEIGHT;
}

function assertPositiveInteger(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${what} must be a positive integer, got ${String(value)}`);
  }
  if (value <= 0) throw new RangeError(`${what} must be a positive integer, got ${value}`);
}

/** Index of the first element strictly greater than `value` (Python's `bisect_right`). */
function bisectRight(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (value < sorted[middle]) high = middle;
    else low = middle + 1;
  }
  return low;
}
