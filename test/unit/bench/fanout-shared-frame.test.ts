/**
 * bench/fanout/shared-frame.ts: the frame variant C writes to every socket
 * is byte for byte what ws's own Sender frames for a server's send (so the
 * bench compares like with like), and the payload stamps tell a whole
 * message from a torn one through the protocol's real encode and decode.
 */
import * as ws from 'ws';
import { describe, expect, it } from 'vitest';
import {
  median,
  payloadTick,
  stampedPayload,
  wsBinaryFrame,
} from '../../../bench/fanout/shared-frame.js';
import { decodeMessage, encodeFrameHead, frameDataTail } from '../../../protocol/index.js';

/** ws's Sender.frame (ws exports Sender; @types/ws does not declare it). */
const wsFrame = (
  ws as unknown as {
    Sender: {
      frame(data: Buffer, options: Record<string, unknown>): Buffer[];
    };
  }
).Sender.frame;

describe('wsBinaryFrame', () => {
  it.each([0, 1, 125, 126, 127, 11_060, 65_535, 65_536, 70_000])(
    'frames %i bytes as ws does for an unmasked binary message',
    (length) => {
      const message = Buffer.alloc(length, 7);
      const [header, data] = wsFrame(message, {
        fin: true,
        opcode: 2,
        mask: false,
        readOnly: false,
        rsv1: false,
      });
      const expected = Buffer.concat(data ? [header, data] : [header]);
      expect(
        wsBinaryFrame(message.subarray(0, length >> 1), message.subarray(length >> 1)),
      ).toEqual(expected);
    },
  );
});

describe('stamped payloads', () => {
  const filler = new Uint8Array(11_000).map((_, i) => (i * 31) & 0xff);

  it('carry their tick through a frame message, head and tail joined', () => {
    const head = encodeFrameHead({
      t: 'frame',
      tick: 70_000,
      kind: 'delta',
      base: 69_999,
      n: 10_000,
      ack: 3,
      sent: 1,
    });
    const tail = frameDataTail(stampedPayload(filler, 70_000));
    const decoded = decodeMessage(wsBinaryFrame(head, tail).subarray(4));
    expect(decoded.ok).toBe(true);
    const frame = (decoded as { value: { tick: number; ack: number; data: Uint8Array } }).value;
    expect(frame.tick).toBe(70_000);
    expect(frame.ack).toBe(3);
    expect(frame.data.byteLength).toBe(filler.byteLength);
    expect(payloadTick(frame.data)).toBe(70_000);
  });

  it('leave the filler untouched, and a torn payload has no tick', () => {
    const payload = stampedPayload(filler, 5);
    expect(filler[0]).toBe(0);
    const torn = new Uint8Array([
      ...payload.subarray(0, 100),
      ...stampedPayload(filler, 6).subarray(100),
    ]);
    expect(payloadTick(torn)).toBeUndefined();
    expect(payloadTick(payload.subarray(0, 7))).toBeUndefined();
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
