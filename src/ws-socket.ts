/**
 * What the server needs to know about a ws socket that ws does not say
 * outright: the close code it sent when it failed a connection, the bytes
 * the kernel has taken, a message's bytes in one piece, and close codes as
 * bounded metric labels.
 */
import type { RawData, WebSocket } from 'ws';
import { CloseCode } from '../protocol/close-codes.js';

/**
 * The close code ws sent when it failed the connection itself: ws stores it
 * on the error under its `status-code` symbol (1002 bad frame, 1007 bad
 * UTF-8, 1008 too many fragments, 1009 too big). 1006 if there is none (a
 * socket-level error: ws sent nothing).
 */
export function wsCloseCode(error: Error): number {
  for (const key of Object.getOwnPropertySymbols(error)) {
    if (key.description !== 'status-code') continue;
    const code = (error as unknown as Record<symbol, unknown>)[key];
    if (typeof code === 'number') return code;
  }
  return 1006;
}

/** Close codes the server may see or send; any other (a client's choice) is labelled `other`. */
const KNOWN_CLOSE_CODES: ReadonlySet<number> = new Set([
  ...Object.values(CloseCode),
  1001,
  1002,
  1005,
  1006,
]);

/** The close code as a metric label: bounded, so a client cannot mint series. */
export function closeCodeLabel(code: number): string {
  return KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other';
}

/**
 * Bytes the kernel has taken from this connection so far: net.Socket's
 * bytesWritten less what still waits in Node's own buffer (ws keeps the
 * net.Socket private, as `_socket`).
 */
export function bytesDelivered(socket: WebSocket): number {
  const tcp = (socket as unknown as { _socket?: { bytesWritten: number; writableLength: number } })
    ._socket;
  return tcp ? tcp.bytesWritten - tcp.writableLength : 0;
}

/** A message's bytes as one Uint8Array, however ws delivered them. */
export function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
