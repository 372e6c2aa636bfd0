/** What a driver guarantees; the values are tooz's, so they read the same in logs. */
export enum Characteristic {
  DistributedAcrossThreads = 'DISTRIBUTED_ACROSS_THREADS',
  DistributedAcrossProcesses = 'DISTRIBUTED_ACROSS_PROCESSES',
  DistributedAcrossHosts = 'DISTRIBUTED_ACROSS_HOSTS',
  NonTimeoutBased = 'NON_TIMEOUT_BASED',
  Linearizable = 'LINEARIZABLE',
  Sequential = 'SEQUENTIAL',
  Causal = 'CAUSAL',
  Serializable = 'SERIALIZABLE',
  SameViewUnderPartitions = 'SAME_VIEW_UNDER_PARTITIONS',
  SameViewAcrossClients = 'SAME_VIEW_ACROSS_CLIENTS',
}

/** A set callers can read but not change: what a driver declares is not the caller's to edit. */
export class ReadOnlySet<T> implements ReadonlySet<T> {
  readonly #set: Set<T>;

  constructor(values: Iterable<T>) {
    this.#set = new Set(values);
  }

  get size(): number {
    return this.#set.size;
  }

  has(value: T): boolean {
    return this.#set.has(value);
  }

  forEach(callback: (value: T, key: T, set: ReadonlySet<T>) => void, thisArg?: unknown): void {
    for (const value of this.#set) callback.call(thisArg, value, value, this);
  }

  entries(): SetIterator<[T, T]> {
    return this.#set.entries();
  }

  keys(): SetIterator<T> {
    return this.#set.keys();
  }

  values(): SetIterator<T> {
    return this.#set.values();
  }

  [Symbol.iterator](): SetIterator<T> {
    return this.#set.values();
  }
}
