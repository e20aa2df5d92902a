/**
 * A worker thread that owns a split world, as a lobby worker would: steps
 * `workerData`'s scenario on `partitions` threads and posts back how many
 * stepped it and its state's bits. For world-partitions.test.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { spawnPartitionThread } from '../../lobbies/world-partitions.js';
import { World } from '../../lobbies/world/world.js';
import { stateBits } from './world-bits.js';

export interface SplitOwnerScenario {
  module: WebAssembly.Module;
  partitions: number;
  particles: number;
  seed: number;
  steps: number;
}

const scenario = workerData as SplitOwnerScenario;
const world = new World({
  particles: scenario.particles,
  seed: scenario.seed,
  kernel: { kind: 'wasm', module: scenario.module },
  partitions: scenario.partitions,
  spawnPartition: spawnPartitionThread,
});
world.setForce(1, 500, 500, 'attract');
for (let s = 0; s < scenario.steps; s++) world.step(1 / 60);
parentPort?.postMessage({ partitions: world.partitions, bits: stateBits(world) });
world.close();
