/**
 * The frame message, built so the bulky part is encoded once per (base,
 * tick) and only a few header bytes per client. A frame message is a
 * msgpack map whose last entry is `data` (bin); everything before it is
 * small and per client (the `ack`). `frameDataTail` encodes the `data`
 * entry once; `encodeFrameHead` packs the per-client fields, and the two
 * together are the same msgpack any decoder reads as one map.
 */
import { encodeMessage } from './envelope.js';
import type { FrameMessage } from './messages.js';

const DATA_KEY = [0xa4, 0x64, 0x61, 0x74, 0x61]; // fixstr(4) "data"

/** The `data` entry of a frame map: its key, then the payload as msgpack bin. */
export function frameDataTail(data: Uint8Array): Uint8Array {
  const n = data.byteLength;
  const lengthBytes =
    n < 0x100
      ? [0xc4, n]
      : n < 0x10000
        ? [0xc5, n >>> 8, n & 0xff]
        : [0xc6, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const tail = new Uint8Array(DATA_KEY.length + lengthBytes.length + n);
  tail.set(DATA_KEY, 0);
  tail.set(lengthBytes, DATA_KEY.length);
  tail.set(data, DATA_KEY.length + lengthBytes.length);
  return tail;
}

/**
 * One client's frame header: its own fields as a msgpack map whose entry
 * count includes the `data` entry of the shared tail, so head + tail, sent
 * back to back as one message, is the whole frame map. The tail is not
 * copied: the server writes the two as fragments of one WebSocket message.
 */
export function encodeFrameHead(header: Omit<FrameMessage, 'data'>): Uint8Array {
  const head = encodeMessage(header);
  // The map has one more entry than the header: bump the count in its
  // header (fixmap keeps it in the low nibble, map16 in the next two bytes).
  if ((head[0] & 0xf0) === 0x80 && head[0] !== 0x8f) head[0] += 1;
  else if (head[0] === 0xde) {
    const count = ((head[1] << 8) | head[2]) + 1;
    head[1] = count >>> 8;
    head[2] = count & 0xff;
  } else throw new Error('frame header must encode as a small msgpack map');
  return head;
}

/** One client's frame message in one piece: its head and the shared tail joined (bots, tests). */
export function encodeFrameMessage(
  header: Omit<FrameMessage, 'data'>,
  tail: Uint8Array,
): Uint8Array {
  const head = encodeFrameHead(header);
  const message = new Uint8Array(head.byteLength + tail.byteLength);
  message.set(head, 0);
  message.set(tail, head.byteLength);
  return message;
}
