/**
 * `npm run bench:sim`: the simulation and wire costs on this machine.
 *
 * - tick p50/p99/max (inbox-free world step + quantize, as a lobby tick does)
 *   for 1k, 10k and 50k particles;
 * - keyframe and delta encode time, client decode time;
 * - bytes per particle per frame for keyframes and for 60 Hz deltas, with
 *   the msgpack envelope, and for a client 10 ticks behind;
 * - one broadcast to 10 clients in step: one shared delta encode plus ten
 *   per-client envelopes (what the server does per tick per lobby).
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
} as const;

const USAGE = `Usage: npm run bench:sim -- [options]

The simulation and wire costs on this machine, in this process (no server):
tick time (world step + quantize) p50/p99/max, keyframe and delta encode
time, client decode time, bytes per particle per frame (keyframes, 60 Hz
deltas, a client 10 ticks behind), and one broadcast to 10 clients in step.

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
  console.log(
    '| particles | tick p50 ms | tick p99 ms | tick max ms | key encode ms | delta encode p50 ms | delta decode p50 ms | key B/particle | delta B/particle (60 Hz) | delta B/particle (10 ticks behind) | broadcast to 10 clients p50 ms |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');

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
    let keyBytes = 0;
    for (let t = 0; t < KEYFRAME_SAMPLES; t++) {
      const [data, elapsed] = time(() => encodeKeyframe(frames[t]));
      keyMs.push(elapsed);
      keyBytes = encodeMessage({
        t: 'frame',
        tick: t,
        kind: 'key',
        n: particles,
        ack: -1,
        data,
      }).byteLength;
    }

    const deltaMs: number[] = [];
    const decodeMs: number[] = [];
    const broadcastMs: number[] = [];
    let deltaBytes = 0;
    let behindBytes = 0;
    const decoder = new FrameDecoder(BITS);
    decoder.applyKeyframe(frames[0].tick, particles, encodeKeyframe(frames[0]));
    for (let t = 1; t < frames.length; t++) {
      const [data, elapsed] = time(() => encodeDelta(frames[t - 1], frames[t], BITS));
      deltaMs.push(elapsed);
      deltaBytes += encodeMessage({
        t: 'frame',
        tick: t,
        kind: 'delta',
        base: t - 1,
        n: particles,
        ack: 0,
        data,
      }).byteLength;
      decodeMs.push(
        time(() => decoder.applyDelta(frames[t].tick, frames[t - 1].tick, particles, data))[1],
      );
      if (t >= 10) behindBytes += encodeDelta(frames[t - 10], frames[t], BITS).byteLength;
      // What the server does per tick for 10 clients in step: one shared
      // payload, then one small envelope each (the ack differs per client).
      broadcastMs.push(
        time(() => {
          const shared = encodeDelta(frames[t - 1], frames[t], BITS);
          for (let c = 0; c < 10; c++)
            encodeMessage({
              t: 'frame',
              tick: t,
              kind: 'delta',
              base: t - 1,
              n: particles,
              ack: c,
              data: shared,
            });
        })[1],
      );
    }
    const deltas = frames.length - 1;
    console.log(
      `| ${particles} | ${ms(tick.p50)} | ${ms(tick.p99)} | ${ms(tick.max)} | ${ms(summarize(keyMs).p50)} | ${ms(summarize(deltaMs).p50)} | ${ms(summarize(decodeMs).p50)} | ${(keyBytes / particles).toFixed(3)} | ${(deltaBytes / deltas / particles).toFixed(3)} | ${(behindBytes / (deltas - 9) / particles).toFixed(3)} | ${ms(summarize(broadcastMs).p50)} |`,
    );
  }
  return 0;
}

runMain('bench:sim', main);
