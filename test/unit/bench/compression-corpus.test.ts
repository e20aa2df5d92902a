import { describe, expect, it } from 'vitest';
import { perFrameCodecs } from '../../../bench/compression/codecs.js';
import { buildCorpus, frameMessage, wsHeaderBytes } from '../../../bench/compression/corpus.js';
import { measurePerFrame } from '../../../bench/compression/per-frame.js';
import { deflateSettings } from '../../../bench/compression/socket-bench.js';
import { decodeMessage, FrameDecoder } from '../../../protocol/index.js';

const OPTIONS = {
  particles: 300,
  worldSize: 1000,
  maxParticles: 300,
  seed: 7,
  tickRate: 60,
  flockTicks: 5,
  deltas: 12,
  gapDeltas: 3,
  keyframes: 2,
};

describe('bench:compression corpus', () => {
  it('builds each frame set, deterministically, with deltas a client can apply in order', () => {
    const corpus = buildCorpus(OPTIONS);
    expect(corpus.sets.key).toHaveLength(2);
    expect(corpus.sets.delta60).toHaveLength(12);
    expect(corpus.sets.delta30).toHaveLength(3);
    expect(corpus.sets.delta15).toHaveLength(3);
    expect(corpus.sets.delta30.map((f) => f.tick - (f.base ?? 0))).toEqual([2, 2, 2]);
    expect(corpus.sets.delta15.map((f) => f.tick - (f.base ?? 0))).toEqual([4, 4, 4]);
    expect(buildCorpus(OPTIONS).sets.delta60[5].data).toEqual(corpus.sets.delta60[5].data);

    // The 60 Hz deltas chain from the tick before the first one: a client
    // holding that frame as a keyframe applies them all.
    const first = corpus.sets.delta60[0];
    const again = buildCorpus({ ...OPTIONS, keyframes: 40 });
    const key = again.sets.key.find((k) => k.tick === first.base);
    expect(key).toBeDefined();
    const decoder = new FrameDecoder(corpus.bits);
    decoder.applyKeyframe(key!.tick, OPTIONS.particles, key!.data);
    for (const frame of corpus.sets.delta60)
      decoder.applyDelta(frame.tick, frame.base!, OPTIONS.particles, frame.data);
  });

  it('wraps a payload in the frame message the feed sends, and counts its WebSocket header', () => {
    const frame = buildCorpus(OPTIONS).sets.delta60[0];
    const decoded = decodeMessage(frameMessage(frame, 300, frame.data, 4, 123.5));
    expect(decoded).toEqual({
      ok: true,
      value: {
        t: 'frame',
        tick: frame.tick,
        kind: 'delta',
        base: frame.base,
        n: 300,
        ack: 4,
        sent: 123.5,
        data: expect.anything(),
      },
    });
    expect(new Uint8Array((decoded as { value: { data: Uint8Array } }).value.data)).toEqual(
      frame.data,
    );
    expect([
      wsHeaderBytes(125),
      wsHeaderBytes(126),
      wsHeaderBytes(65_535),
      wsHeaderBytes(65_536),
    ]).toEqual([2, 4, 4, 10]);
  });

  it('measures every codec on every set, and each one round-trips', () => {
    const corpus = buildCorpus(OPTIONS);
    const codecs = perFrameCodecs({ deflateLevels: [1], brotliQualities: [1], zstdLevels: [1] });
    expect(codecs.map((c) => c.name).slice(0, 4)).toEqual([
      'none',
      'deflate-1',
      'deflate huffman-only',
      'brotli-1 (lgwin 16)',
    ]);
    const results = measurePerFrame(corpus, codecs, 1);
    expect(results.map((r) => r.codec)).toEqual(codecs.map((c) => c.name));
    // none carries the header too: a bit over the payload alone.
    const payload = corpus.sets.key[0].data.byteLength / OPTIONS.particles;
    expect(results[0].sets.key.bytesPerParticle).toBeGreaterThan(payload);
    expect(results[0].sets.key.bytesPerParticle).toBeLessThan(payload + 0.5);
  });

  it('tries permessage-deflate off, then each level with context takeover on and off', () => {
    expect(deflateSettings([1]).map((s) => [s.name, s.options])).toEqual([
      ['pmd off', false],
      [
        'pmd deflate-1, context takeover',
        { zlibDeflateOptions: { level: 1 }, serverNoContextTakeover: false },
      ],
      [
        'pmd deflate-1, no context takeover',
        { zlibDeflateOptions: { level: 1 }, serverNoContextTakeover: true },
      ],
    ]);
  });
});
