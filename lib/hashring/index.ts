export {
  assertWeight,
  HashRing,
  isValidWeight,
  MAX_WEIGHT,
  type GetNodesOptions,
  type HashRingOptions,
} from './hash-ring.js';
export { Partitioner, type Partitionable, type PartitionerHost, type PartitionerQueryOptions } from './partitioner.js';
