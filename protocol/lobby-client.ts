/**
 * The client end of a lobby connection, for anything that holds a standard
 * WebSocket: the browser, bots, the load generator, tests. It says hello,
 * keeps the reconstructed particle state (FrameDecoder), numbers inputs and
 * records what the server answered; `sendStats` sends the report its caller
 * measured. It owns no socket policy (reconnects,
 * timers): callers decide those.
 */
import { decodeMessage, encodeMessage } from './envelope.js';
import { FrameDecoder } from './frame-codec.js';
import {
  type ErrorMessage,
  type FrameMessage,
  type InputMode,
  isServerMessage,
  mergeStatus,
  type PongMessage,
  type SendRate,
  type ServerMessage,
  STATS_FIELDS,
  type StatsReport,
  type StatusView,
  type WelcomeMessage,
} from './messages.js';
import { PROTOCOL_VERSION } from './version.js';
import { ViewDecoder } from './view-decoder.js';
import type { ViewRect } from './view-grid.js';

/** The part of the WebSocket API (browser or `ws`) this client uses. */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'open' | 'message' | 'close' | 'error',
    listener: (event: never) => void,
  ): void;
}

/** One ping's answer: its round trip, and the server's clock when it answered. */
export interface PingSample {
  /** performance.now() when the ping was sent, and when its pong arrived. */
  sentAt: number;
  receivedAt: number;
  rttMs: number;
  /** The pong's `serverTime`: the server's wall clock, ms since the Unix epoch. */
  serverTime: number;
}

export interface LobbyClientEvents {
  welcome?: (message: WelcomeMessage) => void;
  frame?: (message: FrameMessage, client: LobbyClient) => void;
  status?: (status: StatusView) => void;
  error?: (message: ErrorMessage) => void;
  close?: (code: number, reason: string) => void;
}

export class LobbyClient {
  welcome: WelcomeMessage | undefined;
  decoder: FrameDecoder | undefined;
  /** The particles of the subscribed tiles, from `view` frames (see setView). */
  view: ViewDecoder | undefined;
  status: StatusView | undefined;
  readonly errors: ErrorMessage[] = [];
  /** Last seq the server acknowledged (from frames). */
  ack = -1;
  frames = 0;
  keyframes = 0;
  /** Frames of kind `view` received. */
  viewFrames = 0;
  bytesReceived = 0;
  /** How long the last frame's particle data took to decode, ms (0 when not decoding). */
  decodeMs = 0;
  closeCode: number | undefined;
  closeReason = '';
  #socket: SocketLike;
  #events: LobbyClientEvents;
  #seq = 0;
  /** Pings awaiting their pong; settled with undefined when the socket closes first. */
  #pings = new Map<number, (pong: PongMessage | undefined) => void>();
  #pingId = 0;
  #decode: boolean;

  /**
   * `decode: false` keeps no particle state: frames are counted and their
   * headers reported, their data is not decoded (a load generator's cheap
   * bots; `decoder` then stays empty).
   */
  constructor(
    socket: SocketLike,
    events: LobbyClientEvents = {},
    options: { protocolVersion?: number; decode?: boolean } = {},
  ) {
    this.#socket = socket;
    this.#events = events;
    this.#decode = options.decode ?? true;
    socket.binaryType = 'arraybuffer';
    const hello = () =>
      this.sendRaw({ t: 'hello', v: options.protocolVersion ?? PROTOCOL_VERSION });
    if (socket.readyState === 1) hello();
    else socket.addEventListener('open', hello);
    socket.addEventListener('message', (event: { data: unknown }) => this.#onData(event.data));
    socket.addEventListener('close', (event: { code: number; reason: string }) => {
      this.closeCode = event.code;
      this.closeReason = String(event.reason);
      // No pong will come now: settle the waiting pings rather than leak them.
      for (const settle of this.#pings.values()) settle(undefined);
      this.#pings.clear();
      this.#events.close?.(event.code, this.closeReason);
    });
  }

  get socket(): SocketLike {
    return this.#socket;
  }

  /** Sets this client's force; returns the seq to watch for in `ack`. */
  sendInput(x: number, y: number, mode: InputMode): number {
    const seq = this.#seq++;
    this.sendRaw({ t: 'input', seq, x, y, mode });
    return seq;
  }

  spawn(x: number, y: number, count: number): number {
    const seq = this.#seq++;
    this.sendRaw({ t: 'spawn', seq, x, y, count });
    return seq;
  }

  /** Round trip time in ms, measured with the pong that echoes this ping; NaN if the socket closes first. */
  ping(): Promise<number> {
    return this.pingSample().then((sample) => sample?.rttMs ?? Number.NaN);
  }

  /**
   * A ping with what its pong tells: the round trip and the server's clock
   * (a clock offset estimate, for latency across machines); undefined if
   * the socket closes first.
   */
  pingSample(): Promise<PingSample | undefined> {
    const id = ++this.#pingId;
    const sentAt = performance.now();
    return new Promise((resolve) => {
      this.#pings.set(id, (pong) => {
        if (!pong) return resolve(undefined);
        const receivedAt = performance.now();
        resolve({ sentAt, receivedAt, rttMs: receivedAt - sentAt, serverTime: pong.serverTime });
      });
      this.sendRaw({ t: 'ping', id });
    });
  }

  /**
   * Reports this player's experience (send one every
   * STATS_REPORT_INTERVAL_MS). Absent optional fields are left out; the
   * server answers only a refused report (an `error`).
   */
  sendStats(report: StatsReport): void {
    const message: Record<string, unknown> = { t: 'stats' };
    for (const name of Object.keys(STATS_FIELDS) as (keyof StatsReport)[]) {
      if (report[name] !== undefined) message[name] = report[name];
    }
    this.sendRaw(message);
  }

  /** Asks the server for at most `hz` frames per second (it may send fewer). */
  requestRate(hz: SendRate): void {
    this.sendRaw({ t: 'rate', hz });
  }

  /**
   * Subscribes to the tiles covering `rect` (world units; x, y in
   * [0, worldSize), w, h in (0, worldSize]): frames come as kind `view`,
   * decoded into `view`. Undefined: the whole world again (a keyframe
   * follows). Frames already on their way keep their kind.
   */
  setView(rect: ViewRect | undefined): void {
    this.sendRaw(rect ? { t: 'view', x: rect.x, y: rect.y, w: rect.w, h: rect.h } : { t: 'view' });
  }

  /** Sends any message, valid or not (tests use it to send bad ones). */
  sendRaw(message: object): void {
    this.#socket.send(encodeMessage(message));
  }

  close(code = 1000, reason = ''): void {
    this.#socket.close(code, reason);
  }

  #onData(data: unknown): void {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
    this.bytesReceived += bytes.byteLength;
    const decoded = decodeMessage(bytes);
    if (!decoded.ok || !isServerMessage(decoded.value)) return;
    this.#dispatch(decoded.value);
  }

  #dispatch(message: ServerMessage): void {
    switch (message.t) {
      case 'welcome':
        this.welcome = message;
        this.decoder = new FrameDecoder(message.quantBits);
        this.view = new ViewDecoder(message.quantBits, message.maxParticles);
        return this.#events.welcome?.(message);
      case 'frame': {
        const decoder = this.decoder;
        if (!decoder) return;
        if (message.kind === 'key') this.keyframes++;
        if (message.kind === 'view') this.viewFrames++;
        if (this.#decode) {
          const started = performance.now();
          if (message.kind === 'view')
            this.view!.apply(message.tick, message.base, message.n, message.data, message.prior);
          else if (message.kind === 'key')
            decoder.applyKeyframe(message.tick, message.n, message.data);
          else {
            const { tick, base = -1, n, data, prior } = message;
            decoder.applyDelta(tick, base, n, data, prior);
          }
          this.decodeMs = performance.now() - started;
        }
        this.frames++;
        this.ack = message.ack;
        return this.#events.frame?.(message, this);
      }
      case 'status':
        // Later statuses carry only what changed: keep the merged view.
        this.status = mergeStatus(this.status, message);
        return this.#events.status?.(this.status);
      case 'error':
        this.errors.push(message);
        return this.#events.error?.(message);
      case 'pong':
        this.#pings.get(message.id)?.(message);
        this.#pings.delete(message.id);
        return;
    }
  }
}
