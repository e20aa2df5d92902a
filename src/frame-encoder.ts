/**
 * One lobby's memoised frame encoder. Every client in step asks for the same
 * (base, tick) pair, so the particle payload is encoded once per pair and
 * shared; the cache holds only the newest tick's payloads (at most one per
 * distinct base), so it never outgrows the frame ring.
 */
import {
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
  data: Uint8Array;
  /** `data` as the msgpack tail of a frame message (frame-envelope.ts). */
  tail: Uint8Array;
}

const KEYFRAME = -1;

/** A quantized frame, tagged with the lobby incarnation that made it. */
export type EpochFrame = QuantizedFrame & { epoch?: number };

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
   * The payload for `frame` as a client holding `base` needs it: a delta when
   * the base is an earlier frame of this lobby, else a keyframe.
   */
  encode(frame: EpochFrame, base: EpochFrame | undefined): EncodedFrame {
    if (frame.tick !== this.#tick) {
      this.#cache.clear();
      this.#tick = frame.tick;
    }
    // A restarted lobby (new epoch) has a new world: never delta across it.
    const usable =
      base !== undefined &&
      (base.epoch ?? 0) === (frame.epoch ?? 0) &&
      base.tick < frame.tick &&
      base.count <= frame.count;
    const key = usable ? base.tick : KEYFRAME;
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const started = performance.now();
    const data = usable ? encodeDelta(base, frame, this.#bits) : encodeKeyframe(frame);
    const encoded: EncodedFrame = {
      kind: usable ? 'delta' : 'key',
      base: usable ? base.tick : undefined,
      data,
      tail: frameDataTail(data),
    };
    this.#onEncode(encoded.kind, (performance.now() - started) / 1000);
    this.#cache.set(key, encoded);
    return encoded;
  }
}
