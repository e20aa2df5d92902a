/**
 * The worker_threads entry of a world's partition thread: takes its
 * PartitionStart from workerData and runs partition-loop.ts until the
 * world stops it. Started by world-partitions.ts.
 */
import { workerData } from 'node:worker_threads';
import { type PartitionStart, runPartition } from './world/partition-loop.js';

runPartition(workerData as PartitionStart);
