/**
 * One row of bench:sim's kernel table (sim-kernels.ts), in a thread of its
 * own: builds a world on the kernel it is given, warms it up, times each
 * measured step and posts the times back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { World } from '../lobbies/index.js';

type WorldOptions = ConstructorParameters<typeof World>[0];

export interface KernelStepsJob {
  world: number;
  dt: number;
  warmup: number;
  steps: number;
  particles: number;
  params: WorldOptions['params'];
  kernel: WorldOptions['kernel'];
}

export interface KernelStepsResult {
  stepMs: number[];
}

const job = workerData as KernelStepsJob;
const world = new World({
  size: job.world,
  particles: job.particles,
  maxParticles: job.particles,
  seed: 1,
  params: job.params,
  kernel: job.kernel,
});
for (let i = 0; i < job.warmup; i++) world.step(job.dt);
const stepMs: number[] = [];
for (let t = 0; t < job.steps; t++) {
  const start = performance.now();
  world.step(job.dt);
  stepMs.push(performance.now() - start);
}
world.close();
parentPort?.postMessage({ stepMs } satisfies KernelStepsResult);
