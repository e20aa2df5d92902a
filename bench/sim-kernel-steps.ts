/**
 * One kernel's world for bench:sim's kernel table (sim-kernels.ts), in a
 * thread of its own: builds a world on the kernel it is given and warms it
 * up, then, each time it is asked, steps it a block of steps and posts
 * back each step's time. The table alternates blocks between the kernels'
 * threads, so a change in the machine's load lands on both.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { World } from '../lobbies/index.js';

type WorldOptions = ConstructorParameters<typeof World>[0];

export interface KernelStepsJob {
  world: number;
  dt: number;
  warmup: number;
  particles: number;
  params: WorldOptions['params'];
  kernel: WorldOptions['kernel'];
}

/** Posted once warmed up (stepMs empty), then once per block asked for. */
export interface KernelStepsResult {
  stepMs: number[];
}

/** Asks for a block of this many steps; 0 ends the thread. */
export type KernelStepsRequest = number;

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
const port = parentPort;
if (!port) throw new Error('sim-kernel-steps.ts runs as a worker thread');
port.postMessage({ stepMs: [] } satisfies KernelStepsResult);
port.on('message', (steps: KernelStepsRequest) => {
  if (steps === 0) {
    world.close();
    port.close();
    return;
  }
  const stepMs: number[] = [];
  for (let t = 0; t < steps; t++) {
    const start = performance.now();
    world.step(job.dt);
    stepMs.push(performance.now() - start);
  }
  port.postMessage({ stepMs } satisfies KernelStepsResult);
});
