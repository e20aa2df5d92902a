/**
 * The particle-data test vectors (protocol/vectors/frames.json): their
 * inputs, and how the file is built from them with the reference encoder.
 * The unit test checks the file against the codec both ways; after a
 * deliberate format change, regenerate it with
 *   npx tsx test/support/frame-vectors.ts --write
 * and check the small cases by hand against docs/PROTOCOL.md.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { World } from '../../lobbies/world/world.js';
import {
  encodeDelta,
  encodeKeyframe,
  FrameDecodeError,
  FrameDecoder,
  type QuantizedFrame,
} from '../../protocol/frame-codec.js';
import { quantBitsFor, quantizePositions } from '../../protocol/quantize.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';

export const VECTORS_PATH = fileURLToPath(
  new URL('../../protocol/vectors/frames.json', import.meta.url),
);

/** One message of a stream: which frame it carries and what it is coded against. */
interface StepInput {
  tick: number;
  /** Interleaved x, y codes of the frame at `tick`. */
  codes: number[];
  /** 'key', or a delta from the previous step ('delta1') or from the previous two ('delta2'). */
  as: 'key' | 'delta1' | 'delta2';
}

interface CaseInput {
  name: string;
  note: string;
  bits: number;
  steps: StepInput[];
}

/** A message of a vector: the header fields, the data, and the codes a decoder holds after it. */
export interface VectorStep {
  kind: 'key' | 'delta';
  tick: number;
  base?: number;
  prior?: number;
  n: number;
  data: string;
  codes: number[];
}

export interface Vector {
  name: string;
  note: string;
  bits: number;
  steps: VectorStep[];
}

/** A stream whose last message a decoder must refuse with `error`, holding what it held before. */
export interface Refusal {
  name: string;
  note: string;
  bits: number;
  steps: VectorStep[];
  refuse: Omit<VectorStep, 'codes'> & { error: string };
}

export interface VectorFile {
  about: string;
  protocolVersion: number;
  vectors: Vector[];
  refusals: Refusal[];
}

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export const fromHex = (text: string): Uint8Array =>
  Uint8Array.from(text.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));

export const frameOf = (tick: number, codes: number[]): QuantizedFrame => ({
  tick,
  count: codes.length / 2,
  positions: Uint16Array.from(codes),
});

/** Positions of a seeded 1000-unit world after it has flocked, at consecutive ticks. */
function flockCodes(particles: number, seed: number, ticks: number): number[][] {
  const bits = quantBitsFor(1000);
  const world = new World({ size: 1000, particles, maxParticles: particles, seed });
  for (let i = 0; i < 600; i++) world.step(1 / 60);
  const out: number[][] = [];
  for (let t = 0; t < ticks; t++) {
    world.step(1 / 60);
    const codes = new Uint16Array(2 * particles);
    quantizePositions(world.x, world.y, particles, 1000, bits, codes);
    out.push(Array.from(codes));
  }
  return out;
}

function cases(): CaseInput[] {
  const flock = flockCodes(40, 7, 13);
  const top = 16383;
  return [
    {
      name: 'keyframe-14-bits',
      note: 'two particles: x0=0x1234 y0=0x2bcd x1=1 y1=0x3f00 as 14-bit fields, 56 bits = 7 bytes, no padding',
      bits: 14,
      steps: [{ tick: 7, codes: [0x1234, 0x2bcd, 1, 0x3f00], as: 'key' }],
    },
    {
      name: 'keyframe-3-bits-padding',
      note: 'three particles at 3 bits: 18 bits, then 6 zero padding bits',
      bits: 3,
      steps: [{ tick: 0, codes: [1, 2, 3, 4, 5, 7], as: 'key' }],
    },
    {
      name: 'first-order-delta',
      note: 'dx=+3 (zigzag 6, kx=2: 10 then 01), dy=-2 (zigzag 3, ky=1: 10 then 1); header byte 0x12',
      bits: 14,
      steps: [
        { tick: 1, codes: [100, 200], as: 'key' },
        { tick: 2, codes: [103, 198], as: 'delta1' },
      ],
    },
    {
      name: 'second-order-delta',
      note: 'prior (100,200), base (103,198): prediction (106,196); actual (107,196): residuals +1, 0',
      bits: 14,
      steps: [
        { tick: 1, codes: [100, 200], as: 'key' },
        { tick: 2, codes: [103, 198], as: 'delta1' },
        { tick: 3, codes: [107, 196], as: 'delta2' },
      ],
    },
    {
      name: 'spawn-sections',
      note: 'one particle spawned with the first delta (raw 14-bit fields after section 1), another with the second-order delta; particle 1 appeared between prior and base, so it is predicted first order',
      bits: 14,
      steps: [
        { tick: 10, codes: [500, 600], as: 'key' },
        { tick: 11, codes: [505, 600, 9000, 42], as: 'delta1' },
        { tick: 12, codes: [510, 600, 9003, 41, 16000, 3], as: 'delta2' },
      ],
    },
    {
      name: 'wrap-across-the-seam',
      note: 'particles crossing x = 0 and y = 0 both ways; the predictions and residuals wrap mod 2**14',
      bits: 14,
      steps: [
        { tick: 0, codes: [top - 3, 2, 1, top], as: 'key' },
        { tick: 1, codes: [top - 1, 0, top, top - 2], as: 'delta1' },
        { tick: 2, codes: [0, top - 2, top - 2, top - 4], as: 'delta2' },
        { tick: 3, codes: [2, top - 4, top - 3, top - 6], as: 'delta2' },
      ],
    },
    {
      name: 'unequal-gaps-rounding',
      note: 'prior gap 2, base gap 1: s = floor((2*v*1 + 2) / 4); v = 1 gives 1 (0.5 rounds up), v = -1 gives 0 (-0.5 rounds up), v = 5 gives 3, v = -5 gives -2',
      bits: 14,
      steps: [
        { tick: 4, codes: [1000, 1000, 2000, 2000], as: 'key' },
        { tick: 6, codes: [1001, 999, 2005, 1995], as: 'delta1' },
        { tick: 7, codes: [1002, 999, 2008, 1993], as: 'delta2' },
      ],
    },
    {
      name: 'escape',
      note: 'one particle jumps 8000 quanta in x: its Rice code escapes (sixteen ones, then z - 16*2**k in 14 bits)',
      bits: 14,
      steps: [
        { tick: 0, codes: [100, 100, 200, 200], as: 'key' },
        { tick: 1, codes: [101, 100, 8200, 201], as: 'delta1' },
      ],
    },
    {
      name: 'bits-1',
      note: 'the smallest quantization: codes 0/1, k always 0, residuals in [-1, 0]',
      bits: 1,
      steps: [
        { tick: 0, codes: [0, 1, 1, 1, 0, 0], as: 'key' },
        { tick: 1, codes: [1, 1, 0, 0, 0, 1], as: 'delta1' },
        { tick: 2, codes: [0, 1, 1, 1, 0, 0], as: 'delta2' },
      ],
    },
    {
      name: 'bits-16',
      note: 'the largest quantization: codes up to 0xffff, a move of -32768 (the most negative residual) and k up to 15',
      bits: 16,
      steps: [
        { tick: 0, codes: [0, 0xffff, 0x8000, 12345], as: 'key' },
        { tick: 1, codes: [0x8000, 0, 0, 12345], as: 'delta1' },
        { tick: 2, codes: [0xffff, 1, 0x7fff, 12346], as: 'delta2' },
      ],
    },
    {
      name: 'flock-60hz',
      note: '40 particles of a seeded 1000-unit world after 600 ticks: keyframe, first-order delta, two second-order deltas',
      bits: 14,
      steps: [
        { tick: 0, codes: flock[0], as: 'key' },
        { tick: 1, codes: flock[1], as: 'delta1' },
        { tick: 2, codes: flock[2], as: 'delta2' },
        { tick: 3, codes: flock[3], as: 'delta2' },
      ],
    },
    {
      name: 'flock-20hz',
      note: 'the same flock as a 20 Hz client gets it: every 3rd tick, second order across gaps of 3',
      bits: 14,
      steps: [
        { tick: 0, codes: flock[0], as: 'key' },
        { tick: 3, codes: flock[3], as: 'delta1' },
        { tick: 6, codes: flock[6], as: 'delta2' },
        { tick: 9, codes: flock[9], as: 'delta2' },
        { tick: 12, codes: flock[12], as: 'delta2' },
      ],
    },
  ];
}

/** Encodes a case's stream with the reference encoder, checking it decodes back. */
function build(input: CaseInput): Vector {
  const steps: VectorStep[] = [];
  const frames: QuantizedFrame[] = [];
  const decoder = new FrameDecoder(input.bits);
  for (const step of input.steps) {
    const frame = frameOf(step.tick, step.codes);
    const base = frames.at(-1);
    const prior = step.as === 'delta2' ? frames.at(-2) : undefined;
    let out: VectorStep;
    if (step.as === 'key' || base === undefined) {
      const data = encodeKeyframe(frame, input.bits);
      decoder.applyKeyframe(frame.tick, frame.count, data);
      out = { kind: 'key', tick: frame.tick, n: frame.count, data: hex(data), codes: step.codes };
    } else {
      const data = encodeDelta(base, frame, input.bits, prior);
      decoder.applyDelta(frame.tick, base.tick, frame.count, data, prior?.tick);
      out = {
        kind: 'delta',
        tick: frame.tick,
        base: base.tick,
        ...(prior ? { prior: prior.tick } : {}),
        n: frame.count,
        data: hex(data),
        codes: step.codes,
      };
    }
    if (Array.from(decoder.positions).join() !== step.codes.join()) {
      throw new Error(`vector ${input.name} does not round-trip at tick ${step.tick}`);
    }
    frames.push(frame);
    steps.push(out);
  }
  return { name: input.name, note: input.note, bits: input.bits, steps };
}

/** Refusals: a valid stream whose last message is altered the way `note` says. */
function refusals(vectors: Vector[]): Refusal[] {
  const byName = (name: string): Vector => vectors.find((v) => v.name === name)!;
  type Header = Omit<VectorStep, 'codes'>;
  const spoil = (
    name: string,
    note: string,
    from: string,
    change: (step: Header) => Header,
  ): Refusal => {
    const source = byName(from);
    const steps = source.steps.slice(0, -1);
    const { codes: _, ...last } = source.steps.at(-1)!;
    const header = change(last);
    const decoder = new FrameDecoder(source.bits);
    for (const step of steps) apply(decoder, step);
    try {
      apply(decoder, header);
    } catch (error) {
      if (error instanceof FrameDecodeError) {
        return { name, note, bits: source.bits, steps, refuse: { ...header, error: error.code } };
      }
      throw error;
    }
    throw new Error(`refusal ${name} was accepted`);
  };
  const withData = (step: Header, edit: (data: Uint8Array) => Uint8Array): Header => ({
    ...step,
    data: hex(edit(fromHex(step.data))),
  });
  return [
    spoil('truncated', 'the first-order delta without its last byte', 'first-order-delta', (s) =>
      withData(s, (d) => d.subarray(0, d.length - 1)),
    ),
    spoil('overlong', 'the first-order delta with a zero byte appended', 'first-order-delta', (s) =>
      withData(s, (d) => Uint8Array.from([...d, 0])),
    ),
    spoil(
      'bad-padding',
      'the first-order delta with its top padding bit set',
      'first-order-delta',
      (s) =>
        withData(s, (d) => {
          const out = d.slice();
          out[out.length - 1] |= 0x80;
          return out;
        }),
    ),
    spoil('bad-width', 'kx = 14 at 14 bits (header byte 0x1e)', 'first-order-delta', (s) =>
      withData(s, (d) => Uint8Array.from([0x1e, ...d.subarray(1)])),
    ),
    spoil(
      'value-out-of-range',
      'header 0x0a (kx = 10, ky = 0), sixteen ones, a 14-bit field 0, y = 0: x residual z = 16*2**10 = 16384 >= 2**14',
      'first-order-delta',
      (s) => withData(s, () => Uint8Array.from([0x0a, 0xff, 0xff, 0, 0])),
    ),
    spoil(
      'prior-mismatch',
      'the second-order delta naming a prior the decoder never held',
      'second-order-delta',
      (s) => ({
        ...s,
        prior: 0,
      }),
    ),
    spoil(
      'prior-after-keyframe',
      'a second-order delta right after a keyframe (the decoder holds no prior)',
      'first-order-delta',
      (s) => ({
        ...s,
        prior: 0,
      }),
    ),
    spoil(
      'base-mismatch',
      'the second-order delta against a base the decoder does not hold',
      'second-order-delta',
      (s) => ({
        ...s,
        base: 1,
      }),
    ),
  ];
}

/** Applies one vector step the way a client applies a frame message. */
export function apply(decoder: FrameDecoder, step: Omit<VectorStep, 'codes'>): void {
  const data = fromHex(step.data);
  if (step.kind === 'key') decoder.applyKeyframe(step.tick, step.n, data);
  else decoder.applyDelta(step.tick, step.base ?? -1, step.n, data, step.prior);
}

export function buildVectorFile(): VectorFile {
  const vectors = cases().map(build);
  return {
    about:
      'Particle data test vectors (docs/PROTOCOL.md, "Particle data"). Each vector is a stream: apply its steps in order to one decoder built with `bits`; after each, the decoder holds `codes` (interleaved x, y). `data` is the frame message data field as hex; tick, base, prior and n are its header fields. An encoder that picks Rice parameters as the reference encoder does (protocol/frame-encode.ts) reproduces every `data` exactly. Each refusal: apply its steps, then `refuse` must fail with `error` and leave the decoder as it was.',
    protocolVersion: PROTOCOL_VERSION,
    vectors,
    refusals: refusals(vectors),
  };
}

/** The file's text before formatting: compact, so the formatter lays arrays of codes out in lines. */
const vectorFileText = (file: VectorFile): string => `${JSON.stringify(file)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  writeFileSync(VECTORS_PATH, vectorFileText(buildVectorFile()));
  // The repository's formatter has the last word on layout (biome check).
  execFileSync('npx', ['biome', 'format', '--write', VECTORS_PATH], { stdio: 'inherit' });
  console.log(`wrote ${VECTORS_PATH}`);
}
