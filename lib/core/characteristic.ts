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
