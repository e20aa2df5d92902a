/**
 * bench:sim's partitions table: the world step on the wasm kernel with
 * full steering in issue 15's sense (no steering budget, the default
 * steerInterval 2), one lobby's world split across 1, 2... threads
 * (World `partitions`, lobbies/world-partitions.ts), at the sizes asked
 * for: step p50/p99, the speed-up over one thread, the process's RSS and
 * the world's bytes per particle (World.memoryBytes).
 */
import { loadWorldKernel, spawnPartitionThread, World } from '../lobbies/index.js';
import { ms, summarize } from './stats.js';

/** Every particle steers every other step, whatever the count (steerInterval stays 2). */
const NO_STEER_BUDGET = { steerBudget: 0 } as const;

export interface PartitionTableSetup {
  world: number;
  dt: number;
  warmup: number;
  steps: number;
  sizes: readonly number[];
  partitions: readonly number[];
}

export function partitionTable(setup: PartitionTableSetup): void {
  const wasm = loadWorldKernel('wasm');
  if (wasm.fallback) throw new Error(wasm.fallback);
  console.log(
    `\n# world step split across threads (wasm kernel, steerBudget 0, steerInterval 2), ${setup.steps} measured steps after ${setup.warmup} warm-up\n`,
  );
  console.log(
    '| particles | partitions | step p50 ms | step p99 ms | speed-up over 1 (p50) | RSS MB | world B/particle |',
  );
  console.log(`|${'---|'.repeat(7)}`);
  for (const particles of setup.sizes) {
    let oneP50: number | undefined;
    for (const partitions of setup.partitions) {
      const world = new World({
        size: setup.world,
        particles,
        maxParticles: particles,
        seed: 1,
        params: NO_STEER_BUDGET,
        kernel: wasm.kernel,
        partitions,
        spawnPartition: spawnPartitionThread,
      });
      try {
        for (let i = 0; i < setup.warmup; i++) world.step(setup.dt);
        const stepMs: number[] = [];
        for (let t = 0; t < setup.steps; t++) {
          const start = performance.now();
          world.step(setup.dt);
          stepMs.push(performance.now() - start);
        }
        const { p50, p99 } = summarize(stepMs);
        if (partitions === 1) oneP50 = p50;
        const speedUp = oneP50 === undefined ? 'n/a' : `${(oneP50 / p50).toFixed(2)}x`;
        const rssMb = (process.memoryUsage().rss / 2 ** 20).toFixed(0);
        const perParticle = (world.memoryBytes / particles).toFixed(1);
        console.log(
          `| ${particles} | ${world.partitions} | ${ms(p50)} | ${ms(p99)} | ${speedUp} | ${rssMb} | ${perParticle} |`,
        );
      } finally {
        world.close();
      }
    }
  }
}
