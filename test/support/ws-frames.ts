/**
 * WebSocket frames written by hand (RFC 6455 §5.2), for the fuzzer and the
 * raw peer of the attack tests (raw-socket.ts). The
 * fuzz client writes every message it sends with these straight to the TCP
 * socket, so it can send what a conforming client library refuses to:
 * reserved opcodes and RSV bits, unmasked frames, oversized or fragmented
 * control frames, non-minimal lengths, invalid close codes, and data after
 * the server's close frame.
 */

export const Opcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** How the payload length is written; `auto` is the minimal form the RFC asks for. */
export type LengthForm = 'auto' | '16' | '64';

export interface FrameSpec {
  fin?: boolean;
  /** RSV1-3 as a 3-bit number; non-zero without a negotiated extension is a protocol error. */
  rsv?: number;
  opcode: number;
  payload: Uint8Array;
  /** Clients must mask; an unmasked client frame is a protocol error. */
  masked?: boolean;
  /** The masking key; zeros keep hex dumps readable and are still a valid mask. */
  maskKey?: readonly [number, number, number, number];
  lengthForm?: LengthForm;
  /** Writes this length instead of the payload's: only for lengths the server refuses outright. */
  claimedLength?: bigint;
}

export function encodeFrame(spec: FrameSpec): Uint8Array {
  const { payload } = spec;
  const masked = spec.masked ?? true;
  const key = spec.maskKey ?? [0, 0, 0, 0];
  const length = spec.claimedLength ?? BigInt(payload.length);
  const form = spec.lengthForm ?? 'auto';
  const head: number[] = [
    ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 0x7) << 4) | (spec.opcode & 0xf),
  ];
  const maskBit = masked ? 0x80 : 0;
  if (form === 'auto' && length < 126n) head.push(maskBit | Number(length));
  else if ((form === 'auto' || form === '16') && length < 0x10000n) {
    head.push(maskBit | 126, Number(length >> 8n), Number(length & 0xffn));
  } else {
    head.push(maskBit | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((length >> BigInt(i * 8)) & 0xffn));
  }
  if (masked) head.push(...key);
  const frame = new Uint8Array(head.length + payload.length);
  frame.set(head, 0);
  for (let i = 0; i < payload.length; i++) {
    frame[head.length + i] = masked ? payload[i] ^ key[i & 3] : payload[i];
  }
  return frame;
}

/** One masked, unfragmented message frame. */
export const messageFrame = (payload: Uint8Array, binary = true): Uint8Array =>
  encodeFrame({ opcode: binary ? Opcode.binary : Opcode.text, payload });

/**
 * A message split into fragments at `cuts` (offsets into the payload), with
 * an optional ping between the first two fragments (control frames may
 * interleave a fragmented message).
 */
export function fragmentedMessage(
  payload: Uint8Array,
  cuts: number[],
  opts: { binary?: boolean; pingBetween?: boolean } = {},
): Uint8Array {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(0, c), payload.length)))].sort(
    (a, b) => a - b,
  );
  const bounds = [0, ...points.filter((p) => p > 0 && p < payload.length), payload.length];
  const frames: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const first = i === 0;
    frames.push(
      encodeFrame({
        fin: i + 2 === bounds.length,
        opcode: first ? ((opts.binary ?? true) ? Opcode.binary : Opcode.text) : Opcode.continuation,
        payload: payload.subarray(bounds[i], bounds[i + 1]),
      }),
    );
    if (first && opts.pingBetween) {
      frames.push(encodeFrame({ opcode: Opcode.ping, payload: new Uint8Array([0x66, 0x7a]) }));
    }
  }
  return concat(frames);
}

/** A close frame: a 2-byte code (if given) then the reason bytes. */
export function closeFrame(code: number | undefined, reason: Uint8Array): Uint8Array {
  if (code === undefined) return encodeFrame({ opcode: Opcode.close, payload: new Uint8Array(0) });
  const payload = new Uint8Array(2 + reason.length);
  payload[0] = (code >>> 8) & 0xff;
  payload[1] = code & 0xff;
  payload.set(reason, 2);
  return encodeFrame({ opcode: Opcode.close, payload });
}

/** Close codes a peer may send (RFC 6455 §7.4 and ws's own check); others are a protocol error. */
export function isValidPeerCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
