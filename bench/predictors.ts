/**
 * `npm run bench:predictors`: why a client at a lower send rate costs more
 * bytes per frame, and whether a better predictor could change that. The
 * product target was "a 15 Hz client costs at most 1/4 of a 60 Hz client's
 * bytes"; a 15 Hz client gets a delta every 4th tick, predicted from frames
 * 4 and 8 ticks back instead of 1 and 2. This bench records the default
 * flock (boids, 1000-unit world, 14-bit codes) and, for each tick gap,
 * measures the residuals of several predictors a client could run on the
 * frames it holds: order-0 entropy (what an ideal coder of the residuals
 * would need), the bytes of the wire format's Rice blocks, rms in quanta.
 * Today's predictor (second order) is priced by encodeDelta itself, and the
 * Rice model used for the others is checked against it. Then the implied
 * ratio cost(gap g) / (g × cost(gap 1)): the g-times-lower send rate's bytes
 * per second against the full rate's. docs/BENCHMARKS.md has the argument
 * and the numbers.
 */
import { World } from '../lobbies/index.js';
import {
  encodeDelta,
  type QuantizedFrame,
  quantBitsFor,
  quantizePositions,
} from '../protocol/index.js';
import { optionsHelp, readOptions, runMain } from './cli-options.js';
import { kernelPredictor, type WorldState } from './predictors/kernel-predictor.js';
import {
  alignment,
  DeltaHistory,
  firstOrder,
  nearestNeighbourResidual,
  type Predictor,
  secondOrder,
  thirdOrder,
} from './predictors/position-predictors.js';
import { ResidualTally, riceDeltaBits, zigzag } from './predictors/residual-cost.js';

const WORLD = 1000;
const BITS = quantBitsFor(WORLD);
const DT = 1 / 60;
const TICK_RATE = 60;
const SEED = 1;
/** The kernel's neighbour radius (boids.ts), world units: the alignment predictor's too. */
const NEIGHBOUR_RADIUS = 16;
/** Alignment gains tried; each gap's table shows the best. */
const ALIGNMENT_GAINS = [0.05, 0.1, 0.15, 0.2];
const MAX_GAP = 6;

const OPTIONS = {
  particles: {
    kind: 'int',
    arg: 'P',
    default: 10_000,
    min: 100,
    max: 100_000,
    doc: 'particles in the flock',
  },
  warmup: {
    kind: 'int',
    arg: 'N',
    default: 600,
    min: 0,
    max: 100_000,
    doc: 'ticks stepped before recording (the flock forms)',
  },
  ticks: {
    kind: 'int',
    arg: 'N',
    default: 480,
    min: 6 * MAX_GAP,
    max: 10_000,
    doc: 'ticks recorded; every gap codes the deltas that fit in them',
  },
  gaps: {
    kind: 'intList',
    arg: 'LIST',
    default: [1, 4],
    min: 1,
    max: MAX_GAP,
    doc: 'tick gaps between deltas (a client at 60/g Hz); gap 1 is always measured',
  },
} as const;

const USAGE = `Usage: npm run bench:predictors -- [options]

Records the default boids flock (1000-unit world, 14-bit codes, seed ${SEED})
in this process and, for each tick gap g (a client sent every g-th tick),
prints per predictor the residuals' entropy (bits per coordinate), their
cost in the wire format's Rice blocks (bytes per particle per frame) and
their rms (quanta). Today's second-order predictor is priced by
encodeDelta, and the Rice model is checked against it on a sample frame.
Ends with cost(g) / (g × cost(1)): a g-times-lower send rate's bytes per
second against 60 Hz.

${optionsHelp(OPTIONS)}`;

interface Recording {
  /** Quantized positions after each recorded tick. */
  codes: Uint16Array[];
  /** The world's whole state after each recorded tick (for the kernel predictors). */
  states: WorldState[];
}

function record(particles: number, warmup: number, ticks: number): Recording {
  const world = new World({ size: WORLD, particles, maxParticles: particles, seed: SEED });
  for (let t = 0; t < warmup; t++) world.step(DT);
  const codes: Uint16Array[] = [];
  const states: WorldState[] = [];
  for (let t = 0; t < ticks; t++) {
    world.step(DT);
    const frame = new Uint16Array(2 * particles);
    quantizePositions(world.x, world.y, particles, WORLD, BITS, frame);
    codes.push(frame);
    states.push(world.snapshot());
  }
  return { codes, states };
}

interface Row {
  predictor: Predictor;
  tally: ResidualTally;
  /** Shown instead of the predictor's name. */
  label?: string;
}

/** Every predictor's residuals over the deltas a client at one delta per `gap` ticks gets. */
function measureGap(recording: Recording, gap: number, particles: number) {
  const alignments = ALIGNMENT_GAINS.map((gain) =>
    alignment(gain, (NEIGHBOUR_RADIUS / WORLD) * (1 << BITS)),
  );
  const predictors: Predictor[] = [
    firstOrder,
    secondOrder,
    thirdOrder(1),
    thirdOrder(0.2),
    ...alignments,
    nearestNeighbourResidual,
    kernelPredictor(recording.states, DT, false),
    kernelPredictor(recording.states, DT, true),
  ];
  const rows: Row[] = predictors.map((predictor) => ({ predictor, tally: new ResidualTally() }));
  const predicted = new Int32Array(2 * particles);
  const residuals = new Int32Array(2 * particles);
  const frame = (tick: number): QuantizedFrame => ({
    tick,
    count: particles,
    positions: recording.codes[tick],
  });
  let crossCheck = '';
  let deltas = 0;
  // From 3·gap on: the third-order and kernel predictors look three frames back.
  for (let tick = 3 * gap; tick < recording.codes.length; tick += gap, deltas++) {
    const history = new DeltaHistory(recording.codes, tick, gap, BITS, particles);
    for (const { predictor, tally } of rows) {
      predictor.predict(history, predicted);
      for (let j = 0; j < 2 * particles; j++)
        residuals[j] = zigzag(history.wrap(history.target[j] - predicted[j]));
      if (predictor !== secondOrder) {
        tally.add(residuals, BITS);
        continue;
      }
      // Today's predictor: the bytes the server really sends.
      const bytes = encodeDelta(frame(tick - gap), frame(tick), BITS, frame(tick - 2 * gap)).length;
      if (crossCheck === '') {
        const modelled = Math.ceil(riceDeltaBits(residuals, BITS) / 8);
        if (modelled !== bytes)
          throw new Error(
            `Rice model ${modelled} B != encodeDelta ${bytes} B (gap ${gap}, tick ${tick})`,
          );
        crossCheck = `cross-check, gap ${gap}, recorded tick ${tick}: Rice model ${modelled} B = encodeDelta ${bytes} B`;
      }
      tally.add(residuals, BITS, bytes);
    }
  }
  // Of the alignment gains, only the best earns a row.
  const aligned = rows.filter((row) => alignments.includes(row.predictor));
  const best = aligned.reduce((a, b) =>
    b.tally.bytesPerParticle < a.tally.bytesPerParticle ? b : a,
  );
  best.label = `${best.predictor.name} (best of ${aligned.length})`;
  return { rows: rows.filter((row) => !aligned.includes(row) || row === best), deltas, crossCheck };
}

const NAME_WIDTH = 52;

function printTable(gap: number, deltas: number, rows: Row[]): void {
  console.log(`\ngap ${gap} (a ${(TICK_RATE / gap).toFixed(0)} Hz client): ${deltas} deltas`);
  console.log(
    `${'predictor'.padEnd(NAME_WIDTH)}${'entropy bits/coord'.padStart(20)}${'Rice B/particle'.padStart(17)}${'rms quanta'.padStart(12)}`,
  );
  for (const { predictor, tally, label } of rows)
    console.log(
      `${(label ?? predictor.name).padEnd(NAME_WIDTH)}${tally.entropyBits.toFixed(3).padStart(20)}${tally.bytesPerParticle.toFixed(3).padStart(17)}${tally.rmsQuanta.toFixed(2).padStart(12)}`,
    );
}

/** cost(g) / (g × cost(1)), in Rice bytes or in entropy, two decimals. */
function ratio(at: ResidualTally, one: ResidualTally, gap: number, by: 'bytes' | 'entropy') {
  const cost = (t: ResidualTally) => (by === 'bytes' ? t.bytesPerParticle : t.entropyBits);
  return (cost(at) / (gap * cost(one))).toFixed(2);
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), OPTIONS);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const { particles, warmup, ticks } = options.values;
  const gaps = [...new Set([1, ...options.values.gaps])].sort((a, b) => a - b);
  console.log(
    `# bench:predictors  node ${process.version}, ${particles} particles (boids, world ${WORLD}, ${BITS}-bit codes, seed ${SEED}), ${warmup} warm-up ticks, ${ticks} recorded, gaps ${gaps.join(',')}`,
  );
  const recording = record(particles, warmup, ticks);
  const today = new Map<number, ResidualTally>();
  /** The cheapest predictor a client could run (not a reference), per gap. */
  const best = new Map<number, Row>();
  for (const gap of gaps) {
    const { rows, deltas, crossCheck } = measureGap(recording, gap, particles);
    console.log(crossCheck);
    printTable(gap, deltas, rows);
    today.set(gap, rows.find((row) => row.predictor === secondOrder)!.tally);
    best.set(
      gap,
      rows
        .filter((row) => !row.predictor.reference)
        .reduce((a, b) => (b.tally.bytesPerParticle < a.tally.bytesPerParticle ? b : a)),
    );
  }
  const one = today.get(1)!;
  const bestOne = best.get(1)!;
  console.log(
    '\nsend rate ratio cost(g) / (g × cost(1)), Rice bytes (entropy); "15 Hz ≤ 1/4 of 60 Hz" needs ≤ 0.25 at gap 4:',
  );
  for (const gap of gaps.filter((g) => g > 1)) {
    const at = today.get(gap)!;
    const bestAt = best.get(gap)!;
    console.log(
      `gap ${gap} (${(TICK_RATE / gap).toFixed(0)} Hz), today's predictor: ${at.bytesPerParticle.toFixed(3)} / (${gap} × ${one.bytesPerParticle.toFixed(3)}) = ${ratio(at, one, gap, 'bytes')} (entropy ${ratio(at, one, gap, 'entropy')}); 1/g = ${(1 / gap).toFixed(2)}`,
    );
    console.log(
      `gap ${gap} (${(TICK_RATE / gap).toFixed(0)} Hz), best at each gap: ${bestAt.tally.bytesPerParticle.toFixed(3)} (${bestAt.label ?? bestAt.predictor.name}) / (${gap} × ${bestOne.tally.bytesPerParticle.toFixed(3)} (${bestOne.label ?? bestOne.predictor.name})) = ${ratio(bestAt.tally, bestOne.tally, gap, 'bytes')}`,
    );
  }
  return 0;
}

runMain('bench:predictors', main);
