/**
 * Pure pieces of `npm run bench:fanout` (bench/fanout.ts), kept apart so a
 * unit test can hold them to ws's own framing: the whole WebSocket frame
 * that variant C builds once and writes to every socket, the stamped
 * payload that lets the clients check each message arrived whole, and the
 * median the report is made of.
 */

/** FIN + opcode 2 (binary): one unfragmented binary message. */
const FIN_BINARY = 0x82;

/**
 * One unmasked, unfragmented binary WebSocket frame holding `parts` back to
 * back: the bytes ws's Sender would write for a server's `send` of their
 * concatenation. Servers never mask, so the same bytes are valid on every
 * connection (and none may use permessage-deflate: a compressed frame
 * depends on each connection's own deflate context).
 */
export function wsBinaryFrame(...parts: Uint8Array[]): Buffer {
  let n = 0;
  for (const part of parts) n += part.byteLength;
  const headerLength = n < 126 ? 2 : n < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + n);
  frame[0] = FIN_BINARY;
  if (n < 126) frame[1] = n;
  else if (n < 0x10000) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  let offset = headerLength;
  for (const part of parts) {
    frame.set(part, offset);
    offset += part.byteLength;
  }
  return frame;
}

/** Bytes of the tick stamp at each end of a payload. */
const STAMP_BYTES = 4;

/**
 * A frame payload: `filler`'s bytes (random-ish, like a delta's) with the
 * tick written into its first and last four bytes, so a client can tell a
 * message that arrived whole (both stamps, right length) from a torn or
 * interleaved one.
 */
export function stampedPayload(filler: Uint8Array, tick: number): Uint8Array {
  if (filler.byteLength < 2 * STAMP_BYTES) throw new Error('payload too short for its stamps');
  const payload = new Uint8Array(filler);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  view.setUint32(0, tick);
  view.setUint32(payload.byteLength - STAMP_BYTES, tick);
  return payload;
}

/** The tick a stamped payload carries, or undefined if its two stamps disagree. */
export function payloadTick(payload: Uint8Array): number | undefined {
  if (payload.byteLength < 2 * STAMP_BYTES) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const first = view.getUint32(0);
  return first === view.getUint32(payload.byteLength - STAMP_BYTES) ? first : undefined;
}

/** Median of `values` (NaN for none); sorts a copy. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
