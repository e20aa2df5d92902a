/**
 * bench:sim's kernel table: the world step alone on the JS and the wasm
 * kernel (SWARMHOST_KERNEL), per size and steering, and wasm's speed-up.
 *
 * Each kernel is stepped in a thread of its own (sim-kernel-steps.ts),
 * started fresh for each row: the JS kernel's speed depends on what V8 has
 * compiled and seen before in the same isolate (measured: the same 50k JS
 * world 25-30% slower after this file's other tables ran in-process), and
 * neither kernel should pay for, or profit from, the other's run. The two
 * threads step in turns, a block of BLOCK steps each, so only one steps at
 * a time and a change in the machine's load (these cores are shared)
 * lands on both kernels alike rather than on whichever ran then.
 */
import { fileURLToPath } from 'node:url';
import { loadWorldKernel, spawnWorker } from '../lobbies/index.js';
import type { Worker } from 'node:worker_threads';
import type { KernelStepsJob, KernelStepsRequest, KernelStepsResult } from './sim-kernel-steps.js';
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
      const threads = await Promise.all(
        kernels.map((kernel) =>
          KernelThread.start({
            world: setup.world,
            dt: setup.dt,
            warmup: setup.warmup,
            particles,
            params,
            kernel,
          }),
        ),
      );
      const stepMs: number[][] = kernels.map(() => []);
      try {
        for (let done = 0; done < setup.steps; done += BLOCK) {
          const block = Math.min(BLOCK, setup.steps - done);
          for (const [k, thread] of threads.entries())
            stepMs[k].push(...(await thread.steps(block)));
        }
      } finally {
        await Promise.all(threads.map((thread) => thread.stop()));
      }
      const summaries = stepMs.map(summarize);
      const p50 = summaries.map((summary) => summary.p50);
      const cells = summaries.flatMap((summary) => [ms(summary.p50), ms(summary.p99)]);
      console.log(
        `| ${particles} | ${steering} | ${cells.join(' | ')} | ${(p50[0] / p50[1]).toFixed(2)}x |`,
      );
    }
  }
}

/** Steps a kernel takes in one turn. */
const BLOCK = 30;

const STEPS_ENTRY = new URL(
  `./sim-kernel-steps.${fileURLToPath(import.meta.url).endsWith('.ts') ? 'ts' : 'js'}`,
  import.meta.url,
);

/** One kernel's world in its thread (sim-kernel-steps.ts), stepped a block at a time. */
class KernelThread {
  readonly #worker: Worker;
  #failure: Error | undefined;
  #waiting: ((result: KernelStepsResult) => void) | undefined;
  #failed: ((error: Error) => void) | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (result: KernelStepsResult) => this.#waiting?.(result));
    const fail = (error: Error) => {
      this.#failure = error;
      this.#failed?.(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the kernel step thread exited (${code})`)));
  }

  /** A thread whose world is built and warmed up. */
  static async start(job: KernelStepsJob): Promise<KernelThread> {
    const thread = new KernelThread(spawnWorker(STEPS_ENTRY, { workerData: job }));
    await thread.#next();
    return thread;
  }

  /** Each step's time in ms, for `count` more steps. */
  async steps(count: number): Promise<number[]> {
    const next = this.#next();
    this.#worker.postMessage(count satisfies KernelStepsRequest);
    return (await next).stepMs;
  }

  async stop(): Promise<void> {
    if (this.#failure) return;
    const exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    this.#worker.postMessage(0 satisfies KernelStepsRequest);
    await exited;
  }

  #next(): Promise<KernelStepsResult> {
    return new Promise((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#waiting = resolve;
      this.#failed = reject;
    });
  }
}
