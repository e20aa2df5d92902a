/**
 * One client connection: the socket, the handshake, validation, dispatch
 * and rate limiting of what it sends, and its heartbeat. Frames come from
 * the lobby's feed (lobby-feed.ts), which calls `sendFrame`; replies that
 * are not frames are bounded too (a peer that lets them pile up past twice
 * the high-water mark is cut), so a client that stops reading costs
 * bounded memory and never delays the tick or others.
 *
 * Nothing a client sends can throw out of here: every socket handler is
 * contained (an unexpected error closes this one connection with 1011 and
 * is counted), every close reason passes through `closeReason`, and once
 * the server has decided to close, nothing more from the peer is acted on.
 */
import type { RawData, WebSocket } from 'ws';
import { createActor } from 'xstate';
import {
  type ClientMessage,
  CloseCode,
  closeReason,
  decodeMessage,
  encodeMessage,
  ErrorCode,
  type ErrorCodeValue,
  type FrameKind,
  type LobbyInput,
  MAX_SEQ,
  parseClientMessage,
  PROTOCOL_VERSION,
  quantBitsFor,
  type SendRate,
  type ViewRect,
  type ServerMessage,
} from '../protocol/index.js';
import type { LobbyNotice } from '../lobbies/index.js';
import type { Config } from './config.js';
import type { JoinedLobby, JoinResult, LobbyDirectory } from './lobby-directory.js';
import type { FeedClient } from './lobby-feed.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { PlayerExperience } from './player-experience.js';
import { RateLimiter } from './rate-limiter.js';
import type { SendBatch } from './send-batch.js';
import { StatsIntake } from './stats-intake.js';
import { bytesDelivered, closeCodeLabel, tcpSocket, toBytes, wsCloseCode } from './ws-socket.js';
import type { RuntimeSettings } from './runtime-settings.js';
import { SESSION_PHASE_RULES, type SessionPhase, sessionMachine } from './session-machine.js';
import { SERVER_VERSION } from './version.js';

export interface SessionContext {
  config: Config;
  settings: RuntimeSettings;
  metrics: Metrics;
  directory: LobbyDirectory;
  /** Where accepted stats reports go (per lobby, for /status). */
  players: PlayerExperience;
  /**
   * Places a hello's lobby and joins it: the directory's join, or in fleet
   * mode the fleet's, which may first have to claim the lobby (a promise).
   */
  join(lobbyId: string, session: ClientSession): JoinResult | Promise<JoinResult>;
  /** Corks each socket written in a turn until the turn ends (one writev per client per turn). */
  sendBatch: SendBatch;
  log: Logger;
  /** Logs an unexpected error in a socket handler (throttled: a client may provoke it). */
  logFailure(error: unknown, lobbyId: string): void;
}

let nextClientId = 1;

/** ws send options for a frame's head and tail: two fragments of one binary message. */
const FIRST_FRAGMENT = { binary: true, fin: false } as const;
const LAST_FRAGMENT = { binary: true, fin: true } as const;

export class ClientSession implements FeedClient {
  readonly clientId = nextClientId++;
  readonly lobbyId: string;
  #socket: WebSocket;
  #ctx: SessionContext;
  #limiter: RateLimiter;
  #stats: StatsIntake;
  #machine;
  #unsubscribe: Array<() => void> = [];
  /** Seq of the last input the lobby's inbox accepted from this client. */
  #lastAcceptedSeq = -1;
  /** The code we closed with; a peer that never answers would report 1006. */
  #closeCode: number | undefined;
  /** Heartbeat: whether the peer was heard (any message or pong) since the last ping. */
  #heard = true;
  /** Heartbeat: whether the last ping queued behind unsent frames, and bytes delivered then. */
  #pingBehindBacklog = false;
  #deliveredAtPing = 0;
  /** When the heartbeat's ping went out (performance.now()); its pong gives a round trip. */
  #pingAt: number | undefined;
  /** The rate the client asked for (a `rate` message), kept for a lobby still being placed. */
  #askedRate: SendRate | undefined;
  /** The view the client asked for (a `view` message), kept for a lobby still being placed; null: never asked. */
  #askedView: ViewRect | undefined | null = null;

  constructor(socket: WebSocket, lobbyId: string, ctx: SessionContext) {
    this.#socket = socket;
    this.lobbyId = lobbyId;
    this.#ctx = ctx;
    this.#limiter = new RateLimiter(ctx.config.rateLimitPerSec, ctx.config.rateLimitBurst);
    this.#stats = new StatsIntake(ctx, lobbyId, this);
    this.#machine = createActor(sessionMachine, {
      input: {
        helloTimeoutMs: ctx.config.helloTimeoutMs,
        closeTimeoutMs: ctx.config.closeTimeoutMs,
      },
    });
    this.#machine.subscribe({
      next: (snapshot) =>
        this.#contained(() => {
          if (snapshot.value === 'helloTimedOut')
            this.close(CloseCode.helloTimeout, 'no hello received in time');
          else if (snapshot.value === 'closeTimedOut') this.#cut('close_timeout');
        }),
      error: (error) => ctx.log.error({ err: error, lobby: lobbyId }, 'session machine failed'),
    });
    this.#machine.start();
    socket.on('message', (data, isBinary) =>
      this.#contained(() => this.#onMessage(data, isBinary)),
    );
    socket.on('pong', () => {
      this.#heard = true;
      if (this.#pingAt === undefined) return;
      const rttMs = performance.now() - this.#pingAt;
      this.#pingAt = undefined;
      this.#contained(() => this.#joinedLobby?.feed.roundTrip(this, rttMs));
    });
    socket.on('close', (code) => this.#contained(() => this.#onClose(code)));
    socket.on('error', (error) => this.#contained(() => this.#onSocketError(error)));
  }

  get phase(): SessionPhase {
    return this.#machine.getSnapshot().value as SessionPhase;
  }

  /** The lobby the hello joined, if it did (the machine's context holds it). */
  get #joinedLobby(): JoinedLobby | undefined {
    return this.#machine.getSnapshot().context.lobby;
  }

  /** Bytes handed to the socket and not yet written out. */
  get bufferedBytes(): number {
    return this.#socket.bufferedAmount;
  }

  /**
   * Starts the closing handshake. From here on nothing the peer sends is
   * acted on; a peer that does not answer within closeTimeoutMs is cut.
   */
  close(code: number, reason: string): void {
    if (!SESSION_PHASE_RULES[this.phase].mayClose) return;
    this.#closeCode ??= code;
    this.#machine.send({ type: 'CLOSE' });
    // The socket's own close event does the bookkeeping; this only starts it.
    this.#socket.close(code, closeReason(reason));
  }

  /**
   * Called by the heartbeat every heartbeatMs: cut a dead peer, else ping.
   * Dead means it answered neither the last ping nor anything else since.
   * One exception keeps slow readers: a ping that went out behind unsent
   * frames (our buffer was not empty: the kernel's was full) may be
   * answered late, and the peer is alive as long as the kernel keeps
   * taking bytes off the connection, which it stops doing once the peer is
   * gone. A peer with data waiting that took no bytes at all is cut even
   * if it kept sending: it is not reading.
   */
  heartbeat(): void {
    this.#contained(() => this.#heartbeat());
  }

  #heartbeat(): void {
    if (!SESSION_PHASE_RULES[this.phase].readsMessages) return;
    const socket = this.#socket;
    const delivered = bytesDelivered(socket);
    const draining = this.#pingBehindBacklog && delivered > this.#deliveredAtPing;
    // Data waited for it all interval and it took none: whatever it says,
    // it is not reading (a peer that only talks would grow our buffers).
    const stalled = this.#pingBehindBacklog && !draining;
    if (stalled || (!this.#heard && !draining)) return this.#cut('heartbeat');
    this.#heard = false;
    this.#pingBehindBacklog = socket.bufferedAmount > 0;
    this.#deliveredAtPing = delivered;
    this.#pingAt = performance.now();
    socket.ping();
  }

  /** Ends the TCP connection at once: a dead, unresponsive or unreading peer. */
  #cut(reason: 'heartbeat' | 'close_timeout' | 'send_backlog'): void {
    this.#ctx.metrics.peersCut.inc({ reason });
    this.#closeCode ??= 1006;
    this.#socket.terminate();
  }

  /** Runs a socket handler; an unexpected error costs this connection only. */
  #contained(handler: () => void): void {
    try {
      handler();
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * An unexpected error in this connection's handling (here or in the
   * lobby's feed): counted, logged (throttled), and the connection is
   * closed with 1011. Nobody else is affected.
   */
  fail(error: unknown): void {
    this.#ctx.metrics.sessionErrors.inc();
    this.#ctx.logFailure(error, this.lobbyId);
    try {
      this.#closeCode ??= CloseCode.internalError;
      if (this.phase !== 'closed') this.#machine.send({ type: 'CLOSE' });
      this.#socket.close(CloseCode.internalError, 'internal error');
    } catch {
      this.#socket.terminate();
    }
  }

  #onSocketError(error: Error): void {
    // ws fails the connection by itself on protocol errors (too big, bad
    // UTF-8, bad frames) and has already sent its close frame: record the
    // code it sent, and let the close timeout cut a peer that never answers.
    this.#closeCode ??= wsCloseCode(error);
    if (SESSION_PHASE_RULES[this.phase].readsMessages) this.#machine.send({ type: 'CLOSE' });
    this.#ctx.log.debug({ err: error, lobby: this.lobbyId }, 'socket error');
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const { metrics, config } = this.#ctx;
    this.#heard = true;
    if (!SESSION_PHASE_RULES[this.phase].readsMessages) {
      // Sent after we closed (or timed out): heard, never acted on.
      metrics.inputs.inc({ result: 'after_close' });
      return;
    }
    if (!isBinary) {
      metrics.inputs.inc({ result: 'invalid' });
      return this.close(
        CloseCode.unsupportedData,
        'text messages are not supported: send binary msgpack',
      );
    }
    if (!this.#limiter.tryTake()) return this.#onRateLimited(data);
    const decoded = decodeMessage(toBytes(data));
    if (!decoded.ok) {
      metrics.inputs.inc({ result: 'invalid' });
      return this.close(CloseCode.invalidPayload, decoded.reason);
    }
    const parsed = parseClientMessage(decoded.value, {
      worldSize: config.worldSize,
      maxSpawn: config.maxSpawn,
    });
    const joined = this.phase === 'joined' || this.phase === 'placing';
    if (StatsIntake.owns(decoded.value)) return this.#onStats(parsed, joined);
    if (!parsed.ok) {
      metrics.inputs.inc({
        result: parsed.code === ErrorCode.outOfRange ? 'out_of_range' : 'invalid',
      });
      if (!joined) return this.close(CloseCode.expectedHello, `expected hello: ${parsed.reason}`);
      return this.#replyError(parsed.code, parsed.reason, parsed.seq);
    }
    this.#dispatch(parsed.message, joined);
  }

  /**
   * A message over the rate: dropped unread (it was never accepted, so
   * "nothing accepted is dropped" holds). The first of a burst gets one
   * reply, with its seq if it had one; a flood that lasts closes with 1008.
   */
  #onRateLimited(data: RawData): void {
    const { metrics, config } = this.#ctx;
    metrics.inputs.inc({ result: 'rate_limited' });
    if (this.#limiter.floodSeconds >= config.rateLimitFloodSeconds) {
      return this.close(
        CloseCode.policy,
        `message rate limit exceeded for ${config.rateLimitFloodSeconds} s: flood`,
      );
    }
    if (!this.#limiter.burstStarted) return;
    const seq = seqOf(toBytes(data));
    this.#replyError(
      ErrorCode.rateLimited,
      `too many messages (over ${config.rateLimitPerSec}/s): dropped until you slow down`,
      seq,
    );
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
      case 'rate':
        this.#askedRate = message.hz;
        // Before the welcome, the lobby's feed takes it once it has this client.
        if (this.phase === 'joined') this.#joinedLobby?.feed.askRate(this, message.hz);
        return;
      case 'view': {
        const { x, y, w, h } = message;
        this.#askedView = x === undefined ? undefined : { x, y: y!, w: w!, h: h! };
        if (this.phase === 'joined') this.#joinedLobby?.feed.setView(this, this.#askedView);
        return;
      }
      case 'input':
      case 'spawn':
        if (this.phase === 'placing') {
          // Sent before the welcome: the lobby is not here yet to take it.
          this.#ctx.metrics.inputs.inc({ result: 'invalid' });
          return this.#replyError(
            ErrorCode.notJoined,
            'not joined yet: wait for the welcome',
            message.seq,
          );
        }
        return this.#forward(message);
    }
  }

  /** A stats message, valid or not: the intake answers and counts it. */
  #onStats(parsed: Parameters<StatsIntake['take']>[0], joined: boolean): void {
    const lobby = this.#joinedLobby;
    const stage = !joined ? 'before_hello' : lobby ? 'joined' : 'placing';
    const answer = this.#stats.take(parsed, stage, lobby?.handle.settings.tickRate ?? 0);
    // The client's own round trip (its pongs queue behind our frames) feeds its rate control.
    if (!answer && parsed.ok && parsed.message.t === 'stats' && parsed.message.rttMs !== undefined)
      lobby?.feed.roundTrip(this, parsed.message.rttMs);
    if (answer === 'expected_hello')
      return this.close(CloseCode.expectedHello, 'the first message must be hello, got stats');
    if (answer) this.#replyError(answer.code, answer.message);
  }

  #onHello(version: number): void {
    const { metrics } = this.#ctx;
    if (version !== PROTOCOL_VERSION) {
      metrics.handshakesRefused.inc({ reason: 'version' });
      return this.close(
        CloseCode.versionMismatch,
        `protocol version mismatch: server speaks ${PROTOCOL_VERSION}, client sent ${version}`,
      );
    }
    const joining = this.#ctx.join(this.lobbyId, this);
    if (!(joining instanceof Promise)) return this.#onJoined(joining);
    this.#machine.send({ type: 'PLACING' });
    joining.then(
      (joined) => this.#contained(() => this.#onJoined(joined)),
      (error) => this.fail(error),
    );
  }

  #onJoined(joined: JoinResult): void {
    const { config, directory, metrics } = this.#ctx;
    // The peer left (or was closed) while its lobby was being placed.
    if (!SESSION_PHASE_RULES[this.phase].readsMessages) {
      if (joined.ok) directory.leave(this.lobbyId, this);
      return;
    }
    if (!joined.ok) {
      metrics.handshakesRefused.inc({ reason: joined.reason });
      return this.close(joined.closeCode, joined.message);
    }
    const lobby = joined.lobby;
    const { handle } = lobby;
    this.#machine.send({ type: 'HELLO', lobby });
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
    this.#unsubscribe.push(
      handle.onNotice((notice) => this.#contained(() => this.#onNotice(notice))),
    );
    // The lobby's status in full, then a keyframe of the newest tick, without
    // waiting a tick; later statuses (only what changed) come from the feed.
    lobby.feed.catchUp(this);
    // A rate asked for while the lobby was being placed.
    if (this.#askedRate !== undefined) lobby.feed.askRate(this, this.#askedRate);
    if (this.#askedView) lobby.feed.setView(this, this.#askedView);
  }

  #forward(input: LobbyInput): void {
    const { metrics } = this.#ctx;
    // Acks name the last seq processed, which means something only if seqs
    // increase; a refused input (inbox_full) may come again with its seq.
    if (input.seq <= this.#lastAcceptedSeq) {
      metrics.inputs.inc({ result: 'out_of_range' });
      return this.#replyError(
        ErrorCode.outOfRange,
        `seq must increase: the last accepted was ${this.#lastAcceptedSeq}`,
        input.seq,
      );
    }
    const lobby = this.#joinedLobby;
    const result = lobby ? lobby.handle.trySend(this.clientId, input) : 'closed';
    if (result === 'ok') {
      this.#lastAcceptedSeq = input.seq;
      return void metrics.inputs.inc({ result: 'accepted' });
    }
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
   * The feed's net task hands this client a frame (FeedClient): its own head
   * and the shared tail go out as two fragments of one WebSocket message, so
   * the tail is never copied per client; the turn's cork (send-batch.ts)
   * makes them one writev with anything else sent to it in this turn.
   */
  sendFrame(head: Uint8Array, tail: Uint8Array, kind: FrameKind): boolean {
    // One phase read per frame: sending frames implies reading messages.
    if (!SESSION_PHASE_RULES[this.phase].sendsFrames) return false;
    if (!this.#writable()) return false;
    this.#socket.send(head, FIRST_FRAGMENT);
    this.#socket.send(tail, LAST_FRAGMENT);
    this.#ctx.metrics.bytesSent.inc({ kind }, head.byteLength + tail.byteLength);
    return true;
  }

  /** The feed hands this client a status message (FeedClient); shared bytes. */
  sendStatus(bytes: Uint8Array): void {
    this.#sendBytes(bytes, 'other');
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

  #send(message: ServerMessage, kind: FrameKind | 'other'): void {
    this.#sendBytes(encodeMessage(message), kind);
  }

  /** Hands bytes to the socket; false if they were not sent. */
  #sendBytes(bytes: Uint8Array, kind: FrameKind | 'other'): boolean {
    if (!SESSION_PHASE_RULES[this.phase].readsMessages) return false;
    return this.#write(bytes, kind);
  }

  /** Writes to an open socket, unless our unsent bytes are already too many. */
  #write(bytes: Uint8Array, kind: FrameKind | 'other'): boolean {
    if (!this.#writable()) return false;
    this.#socket.send(bytes);
    this.#ctx.metrics.bytesSent.inc({ kind }, bytes.byteLength);
    return true;
  }

  /**
   * Whether the socket takes a write now: open, and our unsent bytes not too
   * many. Frames stop at the high-water mark; replies (errors, pongs,
   * statuses) do not, so a peer that sends without reading would grow this
   * buffer without end: past twice the mark it is cut. Corks the socket for
   * the rest of the turn, so this turn's writes leave together.
   */
  #writable(): boolean {
    if (this.#socket.readyState !== this.#socket.OPEN) return false;
    if (this.#socket.bufferedAmount > 2 * this.#ctx.settings.get().sendHighWaterBytes) {
      this.#cut('send_backlog');
      return false;
    }
    const tcp = tcpSocket(this.#socket);
    if (tcp) this.#ctx.sendBatch.hold(tcp);
    return true;
  }

  #onClose(code: number): void {
    if (this.phase === 'closed') return;
    const lobby = this.#joinedLobby;
    const decided = this.#closeCode !== undefined;
    this.#ctx.metrics.wsCloses.inc({ code: closeCodeLabel(this.#closeCode ?? code, decided) });
    this.#machine.send({ type: 'CLOSED' });
    this.#machine.stop();
    this.#stats.close();
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe.length = 0;
    if (lobby) this.#ctx.directory.leave(this.lobbyId, this);
  }
}

/** The seq of a refused message, if it has a readable one (only the first of a burst is read). */
function seqOf(bytes: Uint8Array): number | undefined {
  const decoded = decodeMessage(bytes);
  if (!decoded.ok || typeof decoded.value !== 'object' || decoded.value === null) return undefined;
  const seq = (decoded.value as { seq?: unknown }).seq;
  return Number.isInteger(seq) && (seq as number) >= 0 && (seq as number) <= MAX_SEQ
    ? (seq as number)
    : undefined;
}
