/**
 * bench:sim's kernel table: the world step alone on the JS and the wasm
 * kernel (SWARMHOST_KERNEL), per size and steering, and wasm's speed-up.
 *
 * Each kernel is stepped in a thread of its own (sim-kernel-steps.ts),
 * started fresh for each row: the JS kernel's speed depends on what V8 has
 * compiled and seen before in the same isolate (measured: the same 50k JS
 * world 25-30% slower after this file's other tables ran in-process), and
 * neither kernel should pay for, or profit from, the other's run. The rows
 * run one after the other, so only one thread steps at a time.
 */
import { fileURLToPath } from 'node:url';
import { loadWorldKernel, spawnWorker } from '../lobbies/index.js';
import type { KernelStepsJob, KernelStepsResult } from './sim-kernel-steps.js';
import { ms, summarize } from './stats.js';

/** Every particle steers every 2nd step, however many: issue 15's "full steering". */
const NO_BUDGET = { steerBudget: 0 } as const;

/** Every particle steers every step: what the default's time slicing saves. */
const FULL_STEERING = { steerInterval: 1, steerBudget: 0 } as const;

export interface KernelTableSetup {
  world: number;
  dt: number;
  warmup: number;
  steps: number;
  sizes: readonly number[];
}

/** Step time p50/p99 of each kernel per size and steering, and wasm's speed-up at p50. */
export async function kernelTable(setup: KernelTableSetup): Promise<void> {
  const wasm = loadWorldKernel('wasm');
  if (wasm.fallback) throw new Error(wasm.fallback);
  const kernels = [loadWorldKernel('js').kernel, wasm.kernel];
  console.log(
    `\n# world step alone (grid rebuild + boids), ${setup.steps} measured steps after ${setup.warmup} warm-up, each kernel in a fresh thread\n`,
  );
  console.log(
    '| particles | steering | js p50 ms | js p99 ms | wasm p50 ms | wasm p99 ms | wasm speed-up (p50) |',
  );
  console.log(`|${'---|'.repeat(7)}`);
  for (const particles of setup.sizes) {
    for (const [steering, params] of [
      ['default', {}],
      ['no budget', NO_BUDGET],
      ['full', FULL_STEERING],
    ] as const) {
      const p50: number[] = [];
      const cells: string[] = [];
      for (const kernel of kernels) {
        const { stepMs } = await stepInThread({
          world: setup.world,
          dt: setup.dt,
          warmup: setup.warmup,
          steps: setup.steps,
          particles,
          params,
          kernel,
        });
        const summary = summarize(stepMs);
        p50.push(summary.p50);
        cells.push(ms(summary.p50), ms(summary.p99));
      }
      console.log(
        `| ${particles} | ${steering} | ${cells.join(' | ')} | ${(p50[0] / p50[1]).toFixed(2)}x |`,
      );
    }
  }
}

const STEPS_ENTRY = new URL(
  `./sim-kernel-steps.${fileURLToPath(import.meta.url).endsWith('.ts') ? 'ts' : 'js'}`,
  import.meta.url,
);

function stepInThread(job: KernelStepsJob): Promise<KernelStepsResult> {
  return new Promise((resolve, reject) => {
    const worker = spawnWorker(STEPS_ENTRY, { workerData: job });
    let result: KernelStepsResult | undefined;
    worker.once('message', (message: KernelStepsResult) => {
      result = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`the kernel step thread exited (${code}) without a result`));
    });
  });
}
