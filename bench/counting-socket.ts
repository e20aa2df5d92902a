/**
 * The cheapest client that still plays by the protocol: a raw TCP socket
 * that does the WebSocket handshake, says hello (and asks for a send rate),
 * answers the server's pings and close, and counts the frame messages it
 * receives by the first bytes of each message, without assembling or
 * decoding anything.
 *
 * Why: on a 2-core machine a thousand `ws` clients (each message parsed,
 * fragments joined, the envelope decoded) need more CPU than the server they
 * measure, so bench:load's ceiling was its own. This one reads what the
 * server sends as a player would (so the server's sending is real: the same
 * bytes, the same socket backpressure) at a few microseconds a message.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { encodeMessage, PROTOCOL_VERSION, type SendRate } from '../protocol/index.js';

const Opcode = { continuation: 0x0, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/**
 * A frame message's head starts `{t: 'frame'`: a map header (fixmap 0x8N,
 * one byte; or map16 0xde, three: what msgpackr writes), then
 * `a1 't' a5 'frame'`.
 */
const FRAME_SIGNATURE = Buffer.from([0xa1, 0x74, 0xa5, 0x66, 0x72, 0x61, 0x6d, 0x65]);
const MAP16 = 0xde;
/** Enough of a message's start to check it. */
const MESSAGE_START = 3 + FRAME_SIGNATURE.length;
/** Control frames carry at most 125 bytes (RFC 6455 5.5). */
const MAX_CONTROL_PAYLOAD = 125;

export class CountingSocket {
  /** Frame messages received (status, welcome and replies are not frames). */
  frames = 0;
  /** Payload bytes of every message received, as LobbyClient counts them. */
  bytesReceived = 0;
  /** The close code the server sent, once it did (or 1006 when the socket failed). */
  closeCode: number | undefined;
  #socket: Socket;
  #handshake: Buffer | undefined = Buffer.alloc(0);
  /** The frame header being read (up to 10 bytes from the server, which never masks). */
  #header = Buffer.alloc(10);
  #headerHave = 0;
  /** The current frame's opcode (a control frame may come between a message's fragments). */
  #opcode = 0;
  #remaining = 0;
  #inPayload = false;
  /** The current message's start, kept until it can be checked for the frame signature. */
  #start = Buffer.alloc(MESSAGE_START);
  #startHave = 0;
  #checked = false;
  /** The current control frame's payload (a ping's, to echo; a close's code). */
  #control = Buffer.alloc(MAX_CONTROL_PAYLOAD);
  #controlHave = 0;

  constructor(url: string, rate?: SendRate) {
    const { hostname, port, pathname } = new URL(url);
    this.#socket = connect({ host: hostname, port: Number(port), noDelay: true });
    this.#socket.on('connect', () =>
      this.#socket.write(
        `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
          'Sec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk, rate));
    this.#socket.on('error', () => {
      this.closeCode ??= 1006;
    });
    this.#socket.on('close', () => {
      this.closeCode ??= 1006;
    });
  }

  /** Whether the socket failed before or during the handshake. */
  get failed(): boolean {
    return this.#handshake !== undefined && this.closeCode !== undefined;
  }

  close(): void {
    if (this.closeCode === undefined && this.#handshake === undefined)
      this.#send(Opcode.close, Buffer.from([0x03, 0xe8]));
    this.#socket.end();
  }

  terminate(): void {
    this.#socket.destroy();
  }

  /** Stops reading: the server's sends back up in its socket, as with a stalled player. */
  pause(): void {
    this.#socket.pause();
  }

  #onData(chunk: Buffer, rate: SendRate | undefined): void {
    if (this.#handshake !== undefined) {
      const seen = Buffer.concat([this.#handshake, chunk]);
      const end = seen.indexOf('\r\n\r\n');
      if (end < 0) {
        this.#handshake = seen;
        return;
      }
      if (!seen.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) {
        this.closeCode = 1006;
        this.#socket.destroy();
        return;
      }
      this.#handshake = undefined;
      this.#send(Opcode.binary, encodeMessage({ t: 'hello', v: PROTOCOL_VERSION }));
      if (rate !== undefined) this.#send(Opcode.binary, encodeMessage({ t: 'rate', hz: rate }));
      chunk = seen.subarray(end + 4);
    }
    let at = 0;
    while (at < chunk.length) {
      if (!this.#inPayload) {
        at = this.#readHeader(chunk, at);
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - at);
      if (this.#opcode >= Opcode.close) {
        chunk.copy(this.#control, this.#controlHave, at, at + take);
        this.#controlHave += take;
      } else {
        this.bytesReceived += take;
        const keep = Math.min(take, MESSAGE_START - this.#startHave);
        if (keep > 0) chunk.copy(this.#start, this.#startHave, at, at + keep);
        this.#startHave += keep;
      }
      at += take;
      this.#remaining -= take;
      if (this.#remaining === 0) this.#endFrame();
    }
  }

  /** Reads header bytes from `chunk` at `at`; returns where it stopped. */
  #readHeader(chunk: Buffer, at: number): number {
    while (at < chunk.length) {
      this.#header[this.#headerHave++] = chunk[at++];
      const need = this.#headerLength();
      if (need !== undefined && this.#headerHave === need) {
        const header = this.#header;
        const opcode = header[0] & 0x0f;
        const short = header[1] & 0x7f;
        this.#remaining =
          short < 126
            ? short
            : short === 126
              ? header.readUInt16BE(2)
              : Number(header.readBigUInt64BE(2));
        this.#headerHave = 0;
        this.#inPayload = true;
        this.#opcode = opcode;
        if (opcode >= Opcode.close) this.#controlHave = 0;
        else if (opcode !== Opcode.continuation) {
          // A new message; a continuation goes on with the current one.
          this.#startHave = 0;
          this.#checked = false;
        }
        if (this.#remaining === 0) this.#endFrame();
        return at;
      }
    }
    return at;
  }

  /** The whole header's length once its first two bytes are in. */
  #headerLength(): number | undefined {
    if (this.#headerHave < 2) return undefined;
    const short = this.#header[1] & 0x7f;
    return short < 126 ? 2 : short === 126 ? 4 : 10;
  }

  #endFrame(): void {
    this.#inPayload = false;
    if (this.#opcode === Opcode.ping) {
      this.#send(Opcode.pong, this.#control.subarray(0, this.#controlHave));
    } else if (this.#opcode === Opcode.close) {
      const code = this.#control.subarray(0, Math.min(2, this.#controlHave));
      this.closeCode = code.length === 2 ? code.readUInt16BE(0) : 1005;
      this.#send(Opcode.close, code);
      this.#socket.end();
    } else if (this.#opcode < Opcode.close && !this.#checked && this.#startHave === MESSAGE_START) {
      // Checked once per message, as soon as its start is in (a frame
      // message's head fragment is longer than the signature).
      this.#checked = true;
      const at = this.#start[0] === MAP16 ? 3 : 1;
      if (this.#start.subarray(at, at + FRAME_SIGNATURE.length).equals(FRAME_SIGNATURE))
        this.frames++;
    }
  }

  /** Sends one frame, masked as a client must (RFC 6455 5.3). */
  #send(opcode: number, payload: Uint8Array): void {
    if (this.#socket.destroyed) return;
    const length = payload.byteLength;
    const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
    const frame = Buffer.alloc(2 + extended + 4 + length);
    frame[0] = 0x80 | opcode;
    frame[1] = 0x80 | (extended === 0 ? length : extended === 2 ? 126 : 127);
    if (extended === 2) frame.writeUInt16BE(length, 2);
    else if (extended === 8) frame.writeBigUInt64BE(BigInt(length), 2);
    const mask = randomBytes(4);
    const maskAt = 2 + extended;
    mask.copy(frame, maskAt);
    for (let i = 0; i < length; i++) frame[maskAt + 4 + i] = payload[i] ^ mask[i & 3];
    this.#socket.write(frame);
  }
}
