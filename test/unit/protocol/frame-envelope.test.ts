import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../protocol/envelope.js';
import { encodeFrameMessage, frameDataTail } from '../../../protocol/frame-envelope.js';
import type { FrameMessage } from '../../../protocol/messages.js';

describe('frame envelope with a shared tail', () => {
  const sizes = [0, 1, 255, 256, 65_535, 65_536, 200_000];
  for (const size of sizes) {
    it(`is the same msgpack as packing the whole map (${size} payload bytes)`, () => {
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i++) data[i] = (i * 31) & 0xff;
      const header: Omit<FrameMessage, 'data'> = {
        t: 'frame',
        tick: 123_456,
        kind: 'delta',
        base: 123_455,
        n: 10_000,
        ack: -1,
        sent: 1_796_000_000_123.456,
      };
      const ours = encodeFrameMessage(header, frameDataTail(data));
      const whole = encodeMessage({ ...header, data });
      expect(Buffer.from(ours).equals(Buffer.from(whole))).toBe(true);
      const decoded = decodeMessage(ours);
      expect(decoded.ok).toBe(true);
      const value = (decoded as { value: FrameMessage }).value;
      expect({ ...value, data: undefined }).toEqual({ ...header, data: undefined });
      expect(Buffer.from(value.data).equals(Buffer.from(data))).toBe(true);
    });
  }

  it('works for a keyframe header without base', () => {
    const data = new Uint8Array([1, 2, 3, 4]);
    const bytes = encodeFrameMessage(
      { t: 'frame', tick: 1, kind: 'key', n: 1, ack: 7, sent: 1 },
      frameDataTail(data),
    );
    const decoded = decodeMessage(bytes) as { ok: true; value: FrameMessage };
    expect(decoded.value).toMatchObject({ t: 'frame', tick: 1, kind: 'key', n: 1, ack: 7 });
    expect([...decoded.value.data]).toEqual([1, 2, 3, 4]);
  });
});
