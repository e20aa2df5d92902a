/**
 * Scratch profiler for World.step alone (no quantize, no encode): median, p99
 * and max wall time per step at a few particle counts with default params,
 * without and with 8 player forces. Run:
 *   npx tsx bench/world-profile.ts [counts...]   (default 1000 10000 50000)
 * bench/sim.ts is the full tick benchmark; this one isolates the world.
 */

import { World } from '../lobbies/index.js';

const WARMUP_STEPS = 240;
const MEASURED_STEPS = 1200;
const DT = 1 / 60;
const FORCES = 8;

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function profile(particles: number, forces: number): string {
  const world = new World({ size: 1000, particles, maxParticles: particles, seed: 42 });
  for (let f = 0; f < forces; f++) {
    world.setForce(f, (f * 997) % 1000, (f * 613) % 1000, f % 2 === 0 ? 'attract' : 'repel');
  }
  for (let s = 0; s < WARMUP_STEPS; s++) world.step(DT);
  const times = new Float64Array(MEASURED_STEPS);
  const cpu0 = process.cpuUsage();
  for (let s = 0; s < MEASURED_STEPS; s++) {
    const t0 = performance.now();
    world.step(DT);
    times[s] = performance.now() - t0;
  }
  const cpuMs = process.cpuUsage(cpu0).user / 1000 / MEASURED_STEPS;
  times.sort();
  return (
    `${String(particles).padStart(6)} particles, ${forces} forces: ` +
    `median ${quantile(times, 0.5).toFixed(2)} ms, p99 ${quantile(times, 0.99).toFixed(2)} ms, ` +
    `max ${times[times.length - 1].toFixed(2)} ms, mean cpu ${cpuMs.toFixed(2)} ms`
  );
}

const counts = process.argv.slice(2).map(Number);
console.log(`node ${process.version}, ${MEASURED_STEPS} steps after ${WARMUP_STEPS} warm-up`);
for (const n of counts.length > 0 ? counts : [1_000, 10_000, 50_000]) {
  console.log(profile(n, 0));
  console.log(profile(n, FORCES));
}
