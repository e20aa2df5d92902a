/**
 * `npm run bench:sim`: the simulation and wire costs on this machine.
 *
 * - tick p50/p99/max (inbox-free world step + quantize, as a lobby tick does)
 *   for 1k, 10k and 50k particles;
 * - keyframe and delta encode time, client decode time (second-order
 *   deltas, as a client in step gets them);
 * - bytes per particle per frame, with the msgpack envelope: keyframes,
 *   60 Hz deltas, deltas at the lower send rates (30, 20, 15, 10 Hz: every
 *   2nd, 3rd, 4th, 6th tick), and a client 10 ticks behind;
 * - one broadcast to 10 clients in step: one shared delta encode plus ten
 *   per-client envelopes (what the server does per tick per lobby);
 * - the world step alone on each kernel (SWARMHOST_KERNEL: js and wasm), with
 *   the default time-sliced steering, with no steering budget (issue 15's
 *   "full steering": every particle every 2nd step) and with full steering
 *   (every particle every step), and the wasm kernel's speed-up over JS,
 *   each kernel in a fresh thread (sim-kernels.ts);
 * - one world split across threads (sim-partitions.ts): wasm kernel, no
 *   steering budget, at 50k and 100k particles on 1 and 2 threads.
 */
import {
  encodeDelta,
  encodeKeyframe,
  encodeMessage,
  FrameDecoder,
  quantBitsFor,
  type QuantizedFrame,
  quantizePositions,
} from '../protocol/index.js';
import { World } from '../lobbies/index.js';
import { optionsHelp, readOptions, runMain } from './cli-options.js';
import { kernelTable } from './sim-kernels.js';
import { partitionTable } from './sim-partitions.js';
import { ms, summarize } from './stats.js';

const WORLD = 1000;
const BITS = quantBitsFor(WORLD);
const DT = 1 / 60;
const WARMUP = 120;
/** Keyframes are timed on the first 50 measured ticks: fewer would leave the table short. */
const KEYFRAME_SAMPLES = 50;

const OPTIONS = {
  ticks: {
    kind: 'int',
    arg: 'N',
    default: 600,
    min: KEYFRAME_SAMPLES,
    max: 10_000,
    doc: `measured ticks per lobby size, after ${WARMUP} warm-up ticks`,
  },
  sizes: {
    kind: 'intList',
    arg: 'a,b,c',
    default: [1000, 10_000, 50_000],
    min: 1,
    max: 1_000_000,
    doc: 'lobby sizes in particles, one table row each',
  },
  steps: {
    kind: 'int',
    arg: 'N',
    default: 300,
    min: 10,
    max: 10_000,
    doc: `measured steps per kernel, size and steering in the kernel table, after ${WARMUP} warm-up steps`,
  },
  'partition-sizes': {
    kind: 'intList',
    arg: 'a,b',
    default: [50_000, 100_000],
    min: 1,
    max: 1_000_000,
    doc: 'world sizes in particles of the partitions table',
  },
  partitions: {
    kind: 'intList',
    arg: 'a,b',
    default: [1, 2],
    min: 1,
    max: 16,
    doc: 'threads per world in the partitions table (speed-ups are over 1)',
  },
  'partition-steps': {
    kind: 'int',
    arg: 'N',
    default: 300,
    min: 10,
    max: 10_000,
    doc: `measured steps per size and partition count in the partitions table, after ${WARMUP} warm-up steps`,
  },
} as const;

const USAGE = `Usage: npm run bench:sim -- [options]

The simulation and wire costs on this machine, in this process (no server):
tick time (world step + quantize) p50/p99/max, keyframe and delta encode
and decode time, bytes per particle per frame (keyframes, 60 Hz deltas,
deltas at 30/20/15/10 Hz send rates, a client 10 ticks behind), the
keyframe entropy of the last frame (a coarse-cell model: what an ideal
coder keeping particle order could reach), and one broadcast to 10
clients in step. Then the world step alone on the JS and the wasm kernel,
with default steering, with no steering budget (steerBudget 0), and with
full steering (steerInterval 1, no steering budget).
Then one wasm world split across threads (no steering budget, steerInterval
2): step p50/p99, speed-up over one thread, RSS, world bytes per particle.

${optionsHelp(OPTIONS)}`;

function quantized(world: World, tick: number): QuantizedFrame {
  const positions = new Uint16Array(world.count * 2);
  quantizePositions(world.x, world.y, world.count, world.size, BITS, positions);
  return { tick, count: world.count, positions };
}

function time<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const result = fn();
  return [result, performance.now() - start];
}

/** Client send rates below the tick rate, and the tick gap of their deltas at 60 Hz. */
const RATE_GAPS = [
  { rate: 30, gap: 2 },
  { rate: 20, gap: 3 },
  { rate: 15, gap: 4 },
  { rate: 10, gap: 6 },
] as const;

/** Coarse cells per side of the keyframe entropy model: 32, so about 10 particles a cell at 10k. */
const ENTROPY_CELL_BITS = 5;

/**
 * What an ideal coder of particles in index order could reach for this
 * frame, in bytes per particle: the empirical entropy of each particle's
 * coarse cell (a 32 × 32 grid) plus the fine bits within it. Positions in
 * index order are nearly independent, so this is close to the bound for
 * any keyframe that keeps the order (docs/PROTOCOL.md, "Particle data").
 */
function keyframeEntropy(frame: QuantizedFrame): number {
  const shift = BITS - ENTROPY_CELL_BITS;
  const cells = new Map<number, number>();
  for (let i = 0; i < frame.count; i++) {
    const cell =
      ((frame.positions[2 * i] >> shift) << ENTROPY_CELL_BITS) |
      (frame.positions[2 * i + 1] >> shift);
    cells.set(cell, (cells.get(cell) ?? 0) + 1);
  }
  let bits = 0;
  for (const c of cells.values()) bits -= (c / frame.count) * Math.log2(c / frame.count);
  return (bits + 2 * shift) / 8;
}

/** A frame message's size with its envelope, as the server sends it. */
function messageBytes(
  tick: number,
  data: Uint8Array,
  particles: number,
  base?: number,
  prior?: number,
): number {
  const header = { t: 'frame', tick, kind: base === undefined ? 'key' : 'delta', n: particles };
  return encodeMessage({
    ...header,
    ...(base === undefined ? {} : { base }),
    ...(prior === undefined ? {} : { prior }),
    ack: 0,
    sent: 1.7e12 + 0.123,
    data,
  }).byteLength;
}

/**
 * Bytes per particle of the deltas a client at one delta per `gap` ticks
 * gets once in step: second order, base `gap` ticks back, prior `gap` before it.
 */
function gapBytes(frames: QuantizedFrame[], gap: number, particles: number): number {
  let bytes = 0;
  let count = 0;
  for (let t = 2 * gap; t < frames.length; t += gap) {
    const data = encodeDelta(frames[t - gap], frames[t], BITS, frames[t - 2 * gap]);
    bytes += messageBytes(t, data, particles, t - gap, t - 2 * gap);
    count++;
  }
  return bytes / count / particles;
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), OPTIONS);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const { ticks: TICKS, sizes: SIZES } = options.values;
  console.log(
    `# bench:sim  node ${process.version}, ${TICKS} measured ticks after ${WARMUP} warm-up, world ${WORLD}, ${BITS}-bit coordinates\n`,
  );
  const rateColumns = RATE_GAPS.map(({ rate, gap }) => `delta B/particle (${rate} Hz, gap ${gap})`);
  console.log(
    `| particles | tick p50 ms | tick p99 ms | tick max ms | key encode ms | key decode ms | delta encode p50 ms | delta decode p50 ms | key B/particle | key entropy B/particle | delta B/particle (60 Hz) | ${rateColumns.join(' | ')} | delta B/particle (10 ticks behind) | broadcast to 10 clients p50 ms |`,
  );
  console.log(`|${'---|'.repeat(17)}`);

  for (const particles of SIZES) {
    const world = new World({ size: WORLD, particles, maxParticles: particles, seed: 1 });
    for (let i = 0; i < WARMUP; i++) world.step(DT);
    const frames: QuantizedFrame[] = [];
    const tickMs: number[] = [];
    for (let t = 0; t < TICKS; t++) {
      const [frame, elapsed] = time(() => {
        world.step(DT);
        return quantized(world, t);
      });
      tickMs.push(elapsed);
      frames.push(frame);
    }
    const tick = summarize(tickMs);

    const keyMs: number[] = [];
    const keyDecodeMs: number[] = [];
    let keyBytes = 0;
    const keyDecoder = new FrameDecoder(BITS);
    for (let t = 0; t < KEYFRAME_SAMPLES; t++) {
      const [data, elapsed] = time(() => encodeKeyframe(frames[t], BITS));
      keyMs.push(elapsed);
      keyDecodeMs.push(time(() => keyDecoder.applyKeyframe(t, particles, data))[1]);
      keyBytes = messageBytes(t, data, particles);
    }

    // The stream a 60 Hz client gets: a keyframe, one first-order delta
    // (it holds no prior yet), then second-order deltas.
    const deltaMs: number[] = [];
    const decodeMs: number[] = [];
    const broadcastMs: number[] = [];
    let deltaBytes = 0;
    let behindBytes = 0;
    const decoder = new FrameDecoder(BITS);
    decoder.applyKeyframe(frames[0].tick, particles, encodeKeyframe(frames[0], BITS));
    decoder.applyDelta(1, 0, particles, encodeDelta(frames[0], frames[1], BITS));
    for (let t = 2; t < frames.length; t++) {
      const [data, elapsed] = time(() =>
        encodeDelta(frames[t - 1], frames[t], BITS, frames[t - 2]),
      );
      deltaMs.push(elapsed);
      deltaBytes += messageBytes(t, data, particles, t - 1, t - 2);
      decodeMs.push(time(() => decoder.applyDelta(t, t - 1, particles, data, t - 2))[1]);
      // A client that was in step, then missed 9 frames: base 10 ticks back,
      // prior one tick before that (the scaled prediction).
      if (t >= 11) {
        const behind = encodeDelta(frames[t - 10], frames[t], BITS, frames[t - 11]);
        behindBytes += messageBytes(t, behind, particles, t - 10, t - 11);
      }
      // What the server does per tick for 10 clients in step: one shared
      // payload, then one small envelope each (the ack differs per client).
      broadcastMs.push(
        time(() => {
          const shared = encodeDelta(frames[t - 1], frames[t], BITS, frames[t - 2]);
          for (let c = 0; c < 10; c++)
            encodeMessage({
              t: 'frame',
              tick: t,
              kind: 'delta',
              base: t - 1,
              prior: t - 2,
              n: particles,
              ack: c,
              data: shared,
            });
        })[1],
      );
    }
    const deltas = frames.length - 2;
    const rates = RATE_GAPS.map(({ gap }) => gapBytes(frames, gap, particles).toFixed(3));
    console.log(
      `| ${particles} | ${ms(tick.p50)} | ${ms(tick.p99)} | ${ms(tick.max)} | ${ms(summarize(keyMs).p50)} | ${ms(summarize(keyDecodeMs).p50)} | ${ms(summarize(deltaMs).p50)} | ${ms(summarize(decodeMs).p50)} | ${(keyBytes / particles).toFixed(3)} | ${keyframeEntropy(frames[frames.length - 1]).toFixed(3)} | ${(deltaBytes / deltas / particles).toFixed(3)} | ${rates.join(' | ')} | ${(behindBytes / (frames.length - 11) / particles).toFixed(3)} | ${ms(summarize(broadcastMs).p50)} |`,
    );
  }
  await kernelTable({
    world: WORLD,
    dt: DT,
    warmup: WARMUP,
    steps: options.values.steps,
    sizes: SIZES,
  });
  partitionTable({
    world: WORLD,
    dt: DT,
    warmup: WARMUP,
    steps: options.values['partition-steps'],
    sizes: options.values['partition-sizes'],
    partitions: options.values.partitions,
  });
  return 0;
}

runMain('bench:sim', main);
