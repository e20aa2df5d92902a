/**
 * One client connection: handshake, validation and rate limiting of what it
 * sends, and its net task, which sends the newest frame whenever the socket
 * has room and skips (counts) frames while it does not. A session holds at
 * most `sendHighWaterBytes` plus one frame of unsent data, so a client that
 * stops reading costs bounded memory and never delays the tick or others.
 */
import type { RawData, WebSocket } from 'ws';
import { createActor } from 'xstate';
import { CloseCode } from '../protocol/close-codes.js';
import { decodeMessage, encodeMessage } from '../protocol/envelope.js';
import { encodeFrameMessage } from '../protocol/frame-envelope.js';
import { ErrorCode, type ErrorCodeValue } from '../protocol/error-codes.js';
import {
  type ClientMessage,
  type FrameMessage,
  type LobbyInput,
  parseClientMessage,
  type ServerMessage,
} from '../protocol/messages.js';
import { quantBitsFor } from '../protocol/quantize.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import type { LobbyNotice } from '../lobbies/lobby-handle.js';
import type { Config } from './config.js';
import type { JoinedLobby, LobbyDirectory } from './lobby-directory.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import type { RuntimeSettings } from './runtime-settings.js';
import { sessionMachine } from './session-machine.js';
import { SERVER_VERSION } from './version.js';

export interface SessionContext {
  config: Config;
  settings: RuntimeSettings;
  metrics: Metrics;
  directory: LobbyDirectory;
  log: Logger;
}

let nextClientId = 1;

export class ClientSession {
  readonly clientId = nextClientId++;
  readonly lobbyId: string;
  #socket: WebSocket;
  #ctx: SessionContext;
  #limiter: RateLimiter;
  #machine;
  #lobby: JoinedLobby | undefined;
  #unsubscribe: Array<() => void> = [];
  #lastSentSeq = -1;
  #lastSentTick = -1;
  #framesSkipped = 0;
  #closed = false;
  /** The code we closed with; a peer that never answers would report 1006. */
  #closeCode: number | undefined;

  constructor(socket: WebSocket, lobbyId: string, ctx: SessionContext) {
    this.#socket = socket;
    this.lobbyId = lobbyId;
    this.#ctx = ctx;
    this.#limiter = new RateLimiter(ctx.config.rateLimitPerSec, ctx.config.rateLimitBurst);
    this.#machine = createActor(sessionMachine, {
      input: { helloTimeoutMs: ctx.config.helloTimeoutMs },
    });
    this.#machine.subscribe({
      next: (snapshot) => {
        if (snapshot.value === 'timedOut')
          this.close(CloseCode.helloTimeout, 'no hello received in time');
      },
      error: (error) => ctx.log.error({ err: error, lobby: lobbyId }, 'session machine failed'),
    });
    this.#machine.start();
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on('close', (code) => this.#onClose(code));
    socket.on('error', (error) => {
      // ws closes by itself on protocol errors (1009 too big, 1007 bad UTF-8, 1002).
      this.#closeCode ??= WS_ERROR_CLOSE_CODES[(error as { code?: string }).code ?? ''] ?? 1002;
      ctx.log.debug({ err: error, lobby: lobbyId }, 'socket error');
    });
  }

  /** Frames this client did not get because its socket was full. */
  get framesSkipped(): number {
    return this.#framesSkipped;
  }

  /** Bytes handed to the socket and not yet written out. */
  get bufferedBytes(): number {
    return this.#socket.bufferedAmount;
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closeCode ??= code;
    // The socket's own close event does the bookkeeping; this only starts it.
    this.#socket.close(code, reason.slice(0, 120));
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const { metrics, config } = this.#ctx;
    if (!isBinary) {
      metrics.inputs.inc({ result: 'invalid' });
      return this.close(
        CloseCode.unsupportedData,
        'text messages are not supported: send binary msgpack',
      );
    }
    if (!this.#limiter.tryTake()) {
      metrics.inputs.inc({ result: 'rate_limited' });
      if (this.#limiter.refusedInARow >= config.rateLimitCloseAfter) {
        return this.close(CloseCode.policy, 'message rate limit exceeded');
      }
      // One reply per burst, not per message, so a flood cannot make us flood back.
      if (this.#limiter.refusedInARow === 1)
        this.#replyError(ErrorCode.rateLimited, 'too many messages: slow down');
      return;
    }
    const decoded = decodeMessage(toBytes(data));
    if (!decoded.ok) {
      metrics.inputs.inc({ result: 'invalid' });
      return this.close(CloseCode.invalidPayload, decoded.reason);
    }
    const parsed = parseClientMessage(decoded.value, {
      worldSize: config.worldSize,
      maxSpawn: config.maxSpawn,
    });
    const joined = this.#machine.getSnapshot().value === 'joined';
    if (!parsed.ok) {
      metrics.inputs.inc({
        result: parsed.code === ErrorCode.outOfRange ? 'out_of_range' : 'invalid',
      });
      if (!joined) return this.close(CloseCode.expectedHello, `expected hello: ${parsed.reason}`);
      return this.#replyError(parsed.code, parsed.reason, parsed.seq);
    }
    this.#dispatch(parsed.message, joined);
  }

  #dispatch(message: ClientMessage, joined: boolean): void {
    if (!joined && message.t !== 'hello') {
      this.#ctx.metrics.inputs.inc({ result: 'invalid' });
      return this.close(
        CloseCode.expectedHello,
        `the first message must be hello, got ${message.t}`,
      );
    }
    switch (message.t) {
      case 'hello':
        if (joined) {
          this.#ctx.metrics.inputs.inc({ result: 'invalid' });
          return this.#replyError(ErrorCode.alreadyJoined, 'this connection has already joined');
        }
        return this.#onHello(message.v);
      case 'ping':
        return this.#send({ t: 'pong', id: message.id, serverTime: Date.now() }, 'other');
      case 'input':
      case 'spawn':
        return this.#forward(message);
    }
  }

  #onHello(version: number): void {
    const { config, directory, metrics } = this.#ctx;
    if (version !== PROTOCOL_VERSION) {
      metrics.handshakesRefused.inc({ reason: 'version' });
      return this.close(
        CloseCode.versionMismatch,
        `protocol version mismatch: server speaks ${PROTOCOL_VERSION}, client sent ${version}`,
      );
    }
    const joined = directory.join(this.lobbyId, this);
    if (!joined.ok) {
      metrics.handshakesRefused.inc({ reason: joined.reason });
      return this.close(joined.closeCode, joined.message);
    }
    const lobby = (this.#lobby = joined.lobby);
    const { handle } = lobby;
    this.#machine.send({ type: 'HELLO' });
    this.#send(
      {
        t: 'welcome',
        v: PROTOCOL_VERSION,
        clientId: this.clientId,
        lobbyId: this.lobbyId,
        tickRate: handle.settings.tickRate,
        worldSize: handle.settings.worldSize,
        quantBits: quantBitsFor(handle.settings.worldSize),
        maxParticles: handle.settings.maxParticles,
        maxSpawn: config.maxSpawn,
        instanceId: config.instanceId,
        serverVersion: SERVER_VERSION,
      },
      'other',
    );
    this.#sendStatus();
    this.#unsubscribe.push(
      handle.status.subscribe(() => this.#onStatus()),
      handle.onNotice((notice) => this.#onNotice(notice)),
    );
    // The first frame is a keyframe of the newest tick, without waiting a tick.
    this.sendNewestFrame();
  }

  #forward(input: LobbyInput): void {
    const { metrics } = this.#ctx;
    const result = this.#lobby!.handle.trySend(this.clientId, input);
    if (result === 'ok') return void metrics.inputs.inc({ result: 'accepted' });
    if (result === 'full') {
      metrics.inputs.inc({ result: 'inbox_full' });
      return this.#replyError(
        ErrorCode.inboxFull,
        'lobby inbox is full: input not accepted, retry',
        input.seq,
      );
    }
    metrics.inputs.inc({ result: 'lobby_closed' });
    this.#replyError(ErrorCode.lobbyClosed, 'lobby is closing: input not accepted', input.seq);
  }

  /**
   * The net task, run by the lobby's fan-out on every new frame: send the
   * newest frame if the socket has room, else skip it (counted).
   */
  sendNewestFrame(): void {
    const lobby = this.#lobby;
    if (!lobby || this.#closed || this.#socket.readyState !== this.#socket.OPEN) return;
    const frames = lobby.handle.frames;
    const seq = frames.newestSeq;
    const frame = frames.get(seq);
    if (!frame || frame.tick === this.#lastSentTick) return;
    const { metrics, settings } = this.#ctx;
    const { sendRate, sendHighWaterBytes } = settings.get();
    // Below the tick rate, send on the ticks where tick*rate/tickRate steps
    // up: the same ticks for every client, so their (base, tick) pairs stay
    // shared and one encode still serves them all.
    const perTick = sendRate / lobby.handle.settings.tickRate;
    if (
      perTick < 1 &&
      this.#lastSentTick >= 0 &&
      Math.floor(frame.tick * perTick) === Math.floor(this.#lastSentTick * perTick)
    ) {
      return;
    }
    if (this.#socket.bufferedAmount > sendHighWaterBytes) {
      this.#framesSkipped++;
      metrics.framesSkipped.inc({ reason: 'backpressure' });
      return;
    }
    // A base that has left the ring (undefined here) means a keyframe.
    const base = this.#lastSentSeq >= 0 ? frames.get(this.#lastSentSeq) : undefined;
    const encoded = lobby.encoder.encode(frame, base);
    const header: Omit<FrameMessage, 'data'> = {
      t: 'frame',
      tick: frame.tick,
      kind: encoded.kind,
      n: frame.count,
      ack: lobby.handle.lastAck(this.clientId),
    };
    if (encoded.base !== undefined) header.base = encoded.base;
    // Only the header is packed per client; the payload tail is shared.
    this.#sendBytes(encodeFrameMessage(header, encoded.tail), encoded.kind);
    metrics.framesSent.inc({ kind: encoded.kind });
    this.#lastSentSeq = seq;
    this.#lastSentTick = frame.tick;
  }

  #onStatus(): void {
    const { phase } = this.#lobby!.handle.status.get();
    this.#sendStatus();
    if (phase === 'draining') this.close(CloseCode.draining, 'server is draining: reconnect');
    else if (phase === 'closing' || phase === 'closed')
      this.close(CloseCode.lobbyClosed, 'lobby closed');
    else if (phase === 'failed') this.close(CloseCode.internalError, 'lobby failed');
  }

  #sendStatus(): void {
    const { id, ...status } = this.#lobby!.handle.currentStatus();
    this.#send({ t: 'status', lobbyId: id, ...status }, 'other');
  }

  #onNotice(notice: LobbyNotice): void {
    if (notice.type === 'rejected' && notice.clientId === this.clientId) {
      this.#ctx.metrics.inputs.inc({ result: notice.code });
      this.#replyError(notice.code, notice.message, notice.seq);
    }
  }

  #replyError(code: ErrorCodeValue, message: string, seq?: number): void {
    this.#send(
      seq === undefined ? { t: 'error', code, message } : { t: 'error', code, message, seq },
      'other',
    );
  }

  #send(message: ServerMessage, kind: 'key' | 'delta' | 'other'): void {
    this.#sendBytes(encodeMessage(message), kind);
  }

  #sendBytes(bytes: Uint8Array, kind: 'key' | 'delta' | 'other'): void {
    if (this.#closed || this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(bytes);
    this.#ctx.metrics.bytesSent.inc({ kind }, bytes.byteLength);
  }

  #onClose(code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctx.metrics.wsCloses.inc({ code: String(this.#closeCode ?? code) });
    if (this.#machine.getSnapshot().status === 'active') this.#machine.send({ type: 'CLOSED' });
    this.#machine.stop();
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe.length = 0;
    if (this.#lobby) this.#ctx.directory.leave(this.lobbyId, this);
  }
}

/** Close codes ws uses when it fails a connection itself, by its error code. */
const WS_ERROR_CLOSE_CODES: Record<string, number> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: CloseCode.tooBig,
  WS_ERR_INVALID_UTF8: CloseCode.invalidPayload,
};

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
