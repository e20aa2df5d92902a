import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  encodeDelta,
  encodeKeyframe,
  FrameDecodeError,
  FrameDecoder,
  type QuantizedFrame,
} from '../../../protocol/frame-codec.js';
import { PROTOCOL_VERSION } from '../../../protocol/version.js';
import {
  apply,
  buildVectorFile,
  frameOf,
  VECTORS_PATH,
  type VectorFile,
} from '../../support/frame-vectors.js';

/** The vectors as any client reads them: the committed file, not the generator. */
const file = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as VectorFile;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('particle data test vectors (protocol/vectors/frames.json)', () => {
  it('are for this protocol version, and cover the cases PROTOCOL.md promises', () => {
    expect(file.protocolVersion).toBe(PROTOCOL_VERSION);
    const kinds = file.vectors.flatMap((v) =>
      v.steps.map((s) => (s.kind === 'key' ? 'key' : s.prior === undefined ? 'delta1' : 'delta2')),
    );
    expect(new Set(kinds)).toEqual(new Set(['key', 'delta1', 'delta2']));
    expect(file.vectors.map((v) => v.name)).toEqual(
      expect.arrayContaining(['spawn-sections', 'wrap-across-the-seam', 'flock-20hz', 'escape']),
    );
  });

  for (const vector of file.vectors) {
    it(`${vector.name}: the reference encoder writes exactly \`data\`, and decoding gives \`codes\``, () => {
      const decoder = new FrameDecoder(vector.bits);
      const held: QuantizedFrame[] = [];
      for (const step of vector.steps) {
        const frame = frameOf(step.tick, step.codes);
        expect(step.n).toBe(frame.count);
        const prior = step.prior === undefined ? undefined : held.at(-2);
        if (step.prior !== undefined) expect(prior?.tick).toBe(step.prior);
        const data =
          step.kind === 'key'
            ? encodeKeyframe(frame, vector.bits)
            : encodeDelta(held.at(-1)!, frame, vector.bits, prior);
        if (step.kind === 'delta') expect(held.at(-1)!.tick).toBe(step.base);
        expect(hex(data)).toBe(step.data);
        apply(decoder, step);
        expect(Array.from(decoder.positions)).toEqual(step.codes);
        expect(decoder.tick).toBe(step.tick);
        held.push(frame);
      }
    });
  }

  for (const refusal of file.refusals) {
    it(`${refusal.name}: refused with ${refusal.refuse.error}, the decoder unchanged`, () => {
      const decoder = new FrameDecoder(refusal.bits);
      for (const step of refusal.steps) apply(decoder, step);
      const before = {
        tick: decoder.tick,
        prior: decoder.priorTick,
        codes: Array.from(decoder.positions),
      };
      let error: unknown;
      try {
        apply(decoder, refusal.refuse);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(FrameDecodeError);
      expect((error as FrameDecodeError).code).toBe(refusal.refuse.error);
      expect({
        tick: decoder.tick,
        prior: decoder.priorTick,
        codes: Array.from(decoder.positions),
      }).toEqual(before);
    });
  }

  it('match their generator (after a deliberate format change: npx tsx test/support/frame-vectors.ts --write)', () => {
    expect(file).toEqual(JSON.parse(JSON.stringify(buildVectorFile())));
  });
});
