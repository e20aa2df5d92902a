/**
 * The frames bench:compression compresses, made the way a lobby makes them:
 * a world at the lobby defaults (src/config.ts), flocked, quantized each
 * tick, encoded through protocol/'s public encoders and wrapped in the frame
 * message the feed sends (frame-envelope.ts). Only encodeKeyframe and
 * encodeDelta are called, so a new wire format is measured by re-running
 * the bench, with no change here.
 */
import {
  encodeDelta,
  encodeFrameMessage,
  encodeKeyframe,
  type FrameKind,
  type FrameMessage,
  frameDataTail,
  type QuantizedFrame,
  quantBitsFor,
  quantizePositions,
} from '../../protocol/index.js';
import { World } from '../../lobbies/index.js';

/** The sets of frames measured apart: their sizes and compressibility differ. */
export const FRAME_SETS = ['key', 'delta60', 'delta30', 'delta15'] as const;
export type FrameSet = (typeof FRAME_SETS)[number];

/** Ticks between a delta's base and its tick, per set (60 Hz ticks). */
const GAP: Record<Exclude<FrameSet, 'key'>, number> = { delta60: 1, delta30: 2, delta15: 4 };

export interface CorpusFrame {
  kind: FrameKind;
  tick: number;
  base: number | undefined;
  /** The particle payload as encodeKeyframe/encodeDelta return it: what per-frame compression compresses. */
  data: Uint8Array;
}

export interface Corpus {
  particles: number;
  bits: number;
  worldSize: number;
  sets: Record<FrameSet, CorpusFrame[]>;
}

export interface CorpusOptions {
  particles: number;
  worldSize: number;
  maxParticles: number;
  seed: number;
  tickRate: number;
  /** Ticks flocked before the first measured frame (a fresh world is uniform noise). */
  flockTicks: number;
  /** Consecutive 60 Hz deltas (base = previous tick). */
  deltas: number;
  /** Deltas with a 2- and a 4-tick gap (clients sent at 30 and 15 Hz). */
  gapDeltas: number;
  keyframes: number;
}

/** Steps a fresh world and encodes the frame sets. Deterministic for given options. */
export function buildCorpus(options: CorpusOptions): Corpus {
  const { particles, worldSize } = options;
  const bits = quantBitsFor(worldSize);
  const world = new World({
    size: worldSize,
    particles,
    maxParticles: options.maxParticles,
    seed: options.seed,
  });
  const dt = 1 / options.tickRate;
  for (let i = 0; i < options.flockTicks; i++) world.step(dt);

  // Enough consecutive ticks for every set; deltas of a gap set start where
  // their base exists, keyframes are spread over the whole run.
  const maxGap = Math.max(...Object.values(GAP));
  const length = Math.max(options.deltas + 1, options.gapDeltas * maxGap + maxGap, 1);
  const frames: QuantizedFrame[] = [];
  for (let t = 0; t < length; t++) {
    world.step(dt);
    const positions = new Uint16Array(world.count * 2);
    quantizePositions(world.x, world.y, world.count, world.size, bits, positions);
    frames.push({ tick: options.flockTicks + t, count: world.count, positions });
  }

  // Second-order where a client holds the frame before its base (every
  // delta after the first of a set), as the server sends them.
  const delta = (
    base: QuantizedFrame,
    frame: QuantizedFrame,
    prior: QuantizedFrame | undefined,
  ): CorpusFrame => ({
    kind: 'delta',
    tick: frame.tick,
    base: base.tick,
    data: encodeDelta(base, frame, bits, prior),
  });
  const sets: Record<FrameSet, CorpusFrame[]> = {
    key: [],
    delta60: [],
    delta30: [],
    delta15: [],
  };
  const keyStride = Math.max(1, Math.floor(length / Math.max(1, options.keyframes)));
  for (let i = 0; i < options.keyframes; i++) {
    const frame = frames[(i * keyStride) % length];
    sets.key.push({
      kind: 'key',
      tick: frame.tick,
      base: undefined,
      data: encodeKeyframe(frame, bits),
    });
  }
  for (let t = 1; t <= options.deltas; t++)
    sets.delta60.push(delta(frames[t - 1], frames[t], frames[t - 2]));
  for (const set of ['delta30', 'delta15'] as const) {
    const gap = GAP[set];
    // Steps of the gap: the base of each is the previous one, as a client
    // served at that rate holds it.
    for (let i = 1; i <= options.gapDeltas; i++)
      sets[set].push(delta(frames[(i - 1) * gap], frames[i * gap], frames[(i - 2) * gap]));
  }
  return { particles, bits, worldSize, sets };
}

/**
 * One client's frame message as the feed builds it (src/lobby-feed.ts): a
 * per-client header over the shared `data` tail. `data` is whatever goes on
 * the wire: the payload, or its compressed form.
 */
export function frameMessage(
  frame: CorpusFrame,
  particles: number,
  data: Uint8Array,
  ack: number,
  sent = Date.now(),
): Uint8Array {
  const header: Omit<FrameMessage, 'data'> = {
    t: 'frame',
    tick: frame.tick,
    kind: frame.kind,
    n: particles,
    ack,
    sent,
  };
  if (frame.base !== undefined) header.base = frame.base;
  return encodeFrameMessage(header, frameDataTail(data));
}

/** Bytes of the WebSocket frame header a server puts before a binary message (RFC 6455 5.2; unmasked). */
export function wsHeaderBytes(payload: number): number {
  return payload < 126 ? 2 : payload < 0x10000 ? 4 : 10;
}
