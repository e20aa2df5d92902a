/**
 * What the server needs to know about a ws socket that ws does not say
 * outright: the close code it sent when it failed a connection, the bytes
 * the kernel has taken, a message's bytes in one piece, and close codes as
 * bounded metric labels.
 */
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { CloseCode } from '../protocol/index.js';

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

/** Codes a peer's own close is labelled with as they are; any other is `other`. */
const PEER_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1001, 1005, 1006]);

/**
 * Every value the close-code label takes: the codes the server (or ws on
 * its behalf) closes with, the plain codes a peer's close may carry, and
 * `other`, so metrics can create each series at 0 from the start.
 */
export const CLOSE_CODE_LABELS: readonly string[] = [
  ...[...new Set([...PEER_CLOSE_CODES, 1002, ...Object.values(CloseCode)])]
    .sort((a, b) => a - b)
    .map(String),
  'other',
];

/**
 * The close code as a metric label, bounded so a client cannot mint series:
 * a code the server decided on is shown as is; a peer's own close only if it
 * is a plain one (normal, going away, none, dropped), else `other`, so a
 * client closing with 1008 is never counted as our policy close.
 */
export function closeCodeLabel(code: number, decidedByServer: boolean): string {
  return decidedByServer || PEER_CLOSE_CODES.has(code) ? String(code) : 'other';
}

/**
 * Bytes the kernel has taken from this connection so far: net.Socket's
 * bytesWritten less what still waits in Node's own buffer (ws keeps the
 * net.Socket private, as `_socket`).
 */
export function bytesDelivered(socket: WebSocket): number {
  const tcp = tcpSocket(socket);
  return tcp ? tcp.bytesWritten - tcp.writableLength : 0;
}

/** The net.Socket under a ws socket (ws keeps it as `_socket`); undefined once detached. */
export function tcpSocket(socket: WebSocket): Socket | undefined {
  return (socket as unknown as { _socket?: Socket })._socket ?? undefined;
}

/** A message's bytes as one Uint8Array, however ws delivered them. */
export function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
