/**
 * A WebSocket peer written by hand on a bare TCP socket, for what a polite
 * client library will not do: send after the server's close frame, ignore
 * the close handshake, stop reading, send malformed or fragmented frames.
 * It parses just enough of what the server sends to see close frames.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { encodeFrame, Opcode } from './ws-frames.js';

export { Opcode };

export interface RawPeer {
  socket: Socket;
  /** Sends one frame (masked, as a client must unless `unmasked`). */
  send(opcode: number, payload?: Uint8Array, options?: { fin?: boolean; unmasked?: boolean }): void;
  /** Resolves with the server's close frame (code and reason bytes). */
  closeFrame: Promise<{ code: number; reason: Buffer }>;
  /** Resolves when the TCP connection has ended, with ms since the close frame (or since open). */
  ended: Promise<void>;
  /** Every frame opcode the server sent so far. */
  received: number[];
}

/** Opens `path` on 127.0.0.1:`port` and completes the upgrade by hand. */
export function rawUpgrade(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  { allowHalfOpen = false }: { allowHalfOpen?: boolean } = {},
): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: the peer does not end its side when the server ends its own.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen });
    const received: number[] = [];
    let settleClose: (frame: { code: number; reason: Buffer }) => void = () => {};
    const closeFrame = new Promise<{ code: number; reason: Buffer }>((r) => (settleClose = r));
    const ended = new Promise<void>((r) => socket.once('close', () => r()));
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    socket.on('error', () => {});
    socket.once('close', () => {
      if (!upgraded) reject(new Error('connection closed before the upgrade'));
    });
    socket.on('connect', () => {
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
          `Sec-WebSocket-Version: 13\r\n${extra}\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        buffer = buffer.subarray(end + 4);
        if (!head.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        }
        upgraded = true;
        resolve({
          socket,
          received,
          closeFrame,
          ended,
          send: (opcode, payload, options) => {
            if (socket.destroyed) return;
            socket.write(
              encodeFrame({
                opcode,
                payload: payload ?? new Uint8Array(0),
                fin: options?.fin,
                masked: !options?.unmasked,
                maskKey: [0x37, 0xfa, 0x21, 0x3d],
              }),
            );
          },
        });
      }
      // Server frames are unmasked; lengths up to 64-bit (we never get > 2^32 here).
      while (buffer.length >= 2) {
        const opcode = buffer[0] & 0x0f;
        let length = buffer[1] & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = buffer.readUInt32BE(6);
          offset = 10;
        }
        if (buffer.length < offset + length) return;
        const payload = buffer.subarray(offset, offset + length);
        buffer = buffer.subarray(offset + length);
        received.push(opcode);
        if (opcode === Opcode.close) {
          settleClose({
            code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005,
            reason: Buffer.from(payload.subarray(2)),
          });
        }
      }
    });
  });
}
