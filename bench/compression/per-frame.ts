/**
 * Per-frame compression, measured in this process: each codec compresses
 * every frame payload of the corpus and decompresses it again, timed one
 * call at a time (p50), and the frame message that would go on the wire
 * (per-client header over the compressed tail, plus the WebSocket frame
 * header) is counted in bytes.
 */
import { summarize } from '../stats.js';
import type { Codec } from './codecs.js';
import { type Corpus, FRAME_SETS, type FrameSet, frameMessage, wsHeaderBytes } from './corpus.js';

export interface SetResult {
  /** Mean wire bytes of one frame (message + WebSocket header) per particle. */
  bytesPerParticle: number;
  /** One payload, server side, ms. */
  compressP50Ms: number;
  /** One payload, client side, ms. */
  decompressP50Ms: number;
}

export interface CodecResult {
  codec: string;
  sets: Record<FrameSet, SetResult>;
}

/** Frames compressed untimed first, per codec and set, so the JIT and zlib's allocations settle. */
const WARMUP_FRAMES = 10;

/**
 * Measures every codec on every frame set. Codecs take turns frame by frame
 * (not one codec's whole run after another's), so a drift in machine speed
 * during the run falls on all of them alike.
 *
 * @throws Error if a codec does not give back the payload it was given.
 */
export function measurePerFrame(corpus: Corpus, codecs: Codec[], repeats: number): CodecResult[] {
  const results: CodecResult[] = codecs.map((codec) => ({
    codec: codec.name,
    sets: {} as Record<FrameSet, SetResult>,
  }));
  for (const set of FRAME_SETS) {
    const frames = corpus.sets[set];
    for (const codec of codecs)
      for (const frame of frames.slice(0, WARMUP_FRAMES))
        codec.decompress(codec.compress(frame.data));
    const samples = codecs.map(() => ({
      bytes: 0,
      compress: [] as number[],
      decompress: [] as number[],
    }));
    for (const frame of frames)
      codecs.forEach((codec, c) => {
        let packed = frame.data;
        for (let r = 0; r < repeats; r++) {
          const start = performance.now();
          packed = codec.compress(frame.data);
          samples[c].compress.push(performance.now() - start);
        }
        let unpacked = packed;
        for (let r = 0; r < repeats; r++) {
          const start = performance.now();
          unpacked = codec.decompress(packed);
          samples[c].decompress.push(performance.now() - start);
        }
        if (!sameBytes(unpacked, frame.data))
          throw new Error(`${codec.name} did not round-trip a ${set} frame (tick ${frame.tick})`);
        const message = frameMessage(frame, corpus.particles, packed, 0).byteLength;
        samples[c].bytes += message + wsHeaderBytes(message);
      });
    codecs.forEach((_, c) => {
      const s = samples[c];
      results[c].sets[set] = {
        bytesPerParticle: s.bytes / Math.max(1, frames.length) / corpus.particles,
        compressP50Ms: summarize(s.compress).p50,
        decompressP50Ms: summarize(s.decompress).p50,
      };
    });
  }
  return results;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
