/**
 * One lobby's memoised frame encoder. Every client in step asks for the same
 * (prior, base, tick), so the particle payload is encoded once per triple
 * and shared; the cache holds only the newest tick's payloads (at most one
 * per distinct (prior, base)), so it never outgrows the frame ring.
 */
import {
  canPredict,
  encodeDelta,
  encodeKeyframe,
  frameDataTail,
  type FrameKind,
  type QuantizedFrame,
} from '../protocol/index.js';

export interface EncodedFrame {
  kind: FrameKind;
  /** Tick of the base the delta applies to; undefined for a keyframe. */
  base: number | undefined;
  /** Tick of the prior a second-order delta predicts from; undefined otherwise. */
  prior: number | undefined;
  data: Uint8Array;
  /** `data` as the msgpack tail of a frame message (frame-envelope.ts). */
  tail: Uint8Array;
}

const KEYFRAME = -1;

/**
 * Cache key of a delta: the base tick and the prior's gap behind it (1..255,
 * MAX_PREDICTION_GAP; 0 for first order) in one number, so a lookup per
 * client allocates nothing. Exact while base ticks stay below 2**45.
 */
const deltaKey = (base: number, gap: number): number => base * 256 + gap;

/** A quantized frame, tagged with the lobby incarnation that made it. */
export type EpochFrame = QuantizedFrame & { epoch?: number };

const sameEpoch = (a: EpochFrame, b: EpochFrame): boolean => (a.epoch ?? 0) === (b.epoch ?? 0);

export class FrameEncoder {
  #bits: number;
  #onEncode: (kind: FrameKind, seconds: number) => void;
  #tick = Number.NaN;
  #cache = new Map<number, EncodedFrame>();

  constructor(bits: number, onEncode: (kind: FrameKind, seconds: number) => void = () => {}) {
    this.#bits = bits;
    this.#onEncode = onEncode;
  }

  /**
   * The payload for `frame` as a client holding `base` (and `prior`, the
   * frame it held before base, if it holds one) needs it: a second-order
   * delta when prior can predict, a first-order delta when only the base is
   * an earlier frame of this lobby, else a keyframe. The result's `base` and
   * `prior` say which frames it was encoded against: the header carries them.
   */
  encode(frame: EpochFrame, base: EpochFrame | undefined, prior?: EpochFrame): EncodedFrame {
    if (frame.tick !== this.#tick) {
      this.#cache.clear();
      this.#tick = frame.tick;
    }
    // A restarted lobby (new epoch) has a new world: never delta across it.
    const usable =
      base !== undefined &&
      sameEpoch(base, frame) &&
      base.tick < frame.tick &&
      base.count <= frame.count;
    const predict =
      usable && prior !== undefined && sameEpoch(prior, frame) && canPredict(prior, base, frame);
    const key = usable ? deltaKey(base.tick, predict ? base.tick - prior.tick : 0) : KEYFRAME;
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const started = performance.now();
    const data = usable
      ? encodeDelta(base, frame, this.#bits, predict ? prior : undefined)
      : encodeKeyframe(frame, this.#bits);
    const encoded: EncodedFrame = {
      kind: usable ? 'delta' : 'key',
      base: usable ? base.tick : undefined,
      prior: predict ? prior.tick : undefined,
      data,
      tail: frameDataTail(data),
    };
    this.#onEncode(encoded.kind, (performance.now() - started) / 1000);
    this.#cache.set(key, encoded);
    return encoded;
  }
}
