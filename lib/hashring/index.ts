export { HashRing, type GetNodesOptions, type HashRingOptions } from './hash-ring.js';
export { Partitioner, type Partitionable, type PartitionerHost, type PartitionerQueryOptions } from './partitioner.js';
