/**
 * A lobby connection that outlives its sockets, for the browser, bots and
 * tests alike: it opens a socket through the caller's `createSocket` (the
 * browser's WebSocket or `ws`), speaks the protocol over it with LobbyClient,
 * and when the socket closes does what reconnect-policy.ts decides:
 * reconnect after the delay, wait, or stop on a refusal. It owns that loop
 * and its bookkeeping (every welcome, the close of every connection, the
 * reconnect count, the newest decoder, status and tick); it owns no UI,
 * pings or watchdog (client/src/connection.ts adds those for the page).
 * Timers, clock and randomness are injectable so tests can drive it.
 */
import { FrameDecodeError, type FrameDecoder } from './frame-codec.js';
import { ViewDecodeError } from './view-codec.js';
import { LobbyClient, type SocketLike } from './lobby-client.js';
import type {
  ErrorMessage,
  FrameMessage,
  InputMode,
  StatusView,
  WelcomeMessage,
} from './messages.js';
import { CONNECTION_STABLE_AFTER_MS, decideAfterClose, describeClose } from './reconnect-policy.js';

export type ReconnectState =
  /** A socket is opening; `attempt` counts reconnects since the last welcome (0: the first socket). */
  | { kind: 'connecting'; attempt: number }
  | { kind: 'live' }
  /** The socket closed; the next one opens at `retryAt` (the `now` clock). */
  | { kind: 'reconnecting'; attempt: number; retryAt: number; reason: string; code: number }
  /** The server is full: waiting a long while before asking again. */
  | { kind: 'waiting'; retryAt: number; reason: string; code: number }
  /** Retrying cannot help (a close code in FATAL_CLOSE_CODES): stopped. */
  | { kind: 'refused'; reason: string; code: number }
  /** stop() was called. */
  | { kind: 'stopped' };

/** One socket's story: whether it was welcomed, and how it closed. */
export interface ConnectionRecord {
  welcomed: boolean;
  /** Undefined while the socket is open. */
  closeCode: number | undefined;
  closeReason: string;
}

export interface WelcomeRecord {
  /** Index into `connections`. */
  connection: number;
  instanceId: string;
  clientId: number;
  lobbyId: string;
}

/** What `reconnect` reports when a new socket opens after a close. */
export interface ReconnectInfo {
  /** Reconnects since the last welcome, this one included. */
  attempt: number;
  /** How long the client waited after the close. */
  delayMs: number;
  /** The close that caused it. */
  code: number;
  reason: string;
}

/** LobbyClient's events, plus the loop's own. */
export interface ReconnectingClientEvents {
  welcome?: (message: WelcomeMessage, client: LobbyClient) => void;
  frame?: (message: FrameMessage, client: LobbyClient) => void;
  status?: (status: StatusView) => void;
  error?: (message: ErrorMessage) => void;
  /** Each socket's close (or its abandonment). */
  close?: (code: number, reason: string) => void;
  state?: (state: ReconnectState) => void;
  reconnect?: (info: ReconnectInfo) => void;
  /** A frame the decoder refused (it never should): the socket is closed to resync from a keyframe. */
  decodeError?: (error: FrameDecodeError | ViewDecodeError) => void;
}

export interface ReconnectingClientOptions {
  url: string;
  createSocket: (url: string) => SocketLike;
  events?: ReconnectingClientEvents;
  protocolVersion?: number;
  /** False: count frames without decoding their particles (see LobbyClient). */
  decode?: boolean;
  /** Method signatures (not properties) so Node's and the DOM's timer functions both fit. */
  random?(): number;
  setTimeout?(callback: () => void, ms: number): unknown;
  clearTimeout?(handle: unknown): void;
  /** A monotonic clock in ms (performance.now by default). */
  now?(): number;
}

const NOT_OPEN = -1;

export class ReconnectingLobbyClient {
  readonly url: string;
  state: ReconnectState = { kind: 'connecting', attempt: 0 };
  /** Every socket opened, in order. */
  readonly connections: ConnectionRecord[] = [];
  /** Every welcome received, in order. */
  readonly welcomes: WelcomeRecord[] = [];
  /** Sockets opened after a close. */
  reconnects = 0;
  /**
   * The newest welcome, status and frame tick, kept across sockets (a new
   * instance counts ticks afresh), and the newest socket's decoder (a new
   * one, empty until its keyframe, with each welcome).
   */
  welcome: WelcomeMessage | undefined;
  decoder: FrameDecoder | undefined;
  status: StatusView | undefined;
  tick = -1;
  readonly #options: ReconnectingClientOptions;
  readonly #events: ReconnectingClientEvents;
  readonly #random: () => number;
  readonly #now: () => number;
  #client: LobbyClient | undefined;
  /** Index of the socket whose events count; events of any other are ignored. */
  #current = NOT_OPEN;
  /** The backoff step handed to the policy (its previous `nextAttempt`). */
  #attempt = 0;
  /** Reconnects since the last welcome. */
  #tries = 0;
  #liveSince = 0;
  /** The reconnect waiting for its timer, if any. */
  #pending: { handle: unknown; info: Omit<ReconnectInfo, 'attempt'>; closedAt: number } | undefined;
  #lastClose: ConnectionRecord | undefined;
  #started = false;
  #stopped = false;
  /** Bytes of the sockets already closed. */
  #bytesBefore = 0;

  constructor(options: ReconnectingClientOptions) {
    this.url = options.url;
    this.#options = options;
    this.#events = options.events ?? {};
    this.#random = options.random ? () => options.random!() : Math.random;
    this.#now = options.now ? () => options.now!() : () => performance.now();
  }

  /** Opens the first socket (createSocket's exceptions reach the caller here). */
  start(): this {
    if (this.#started) throw new Error('ReconnectingLobbyClient already started');
    this.#started = true;
    this.#open(true);
    return this;
  }

  /** The current socket's protocol client (undefined between sockets). */
  get client(): LobbyClient | undefined {
    return this.#client;
  }

  /** The current client while welcomed and open, else undefined. */
  get live(): LobbyClient | undefined {
    return this.state.kind === 'live' && this.#client?.socket.readyState === 1
      ? this.#client
      : undefined;
  }

  /** Bytes received over every socket so far. */
  get bytesReceived(): number {
    return this.#bytesBefore + (this.#client?.bytesReceived ?? 0);
  }

  /** The last closed connection's code and reason. */
  get closeCode(): number | undefined {
    return this.#lastClose?.closeCode;
  }

  get closeReason(): string {
    return this.#lastClose?.closeReason ?? '';
  }

  sendInput(x: number, y: number, mode: InputMode): number | undefined {
    return this.live?.sendInput(x, y, mode);
  }

  spawn(x: number, y: number, count: number): number | undefined {
    return this.live?.spawn(x, y, count);
  }

  /** Skips a pending wait and reconnects now (a "try now" button, the browser back online). */
  retryNow(): void {
    const pending = this.#pending;
    if (!pending || this.#stopped) return;
    this.#cancelTimer();
    this.#reconnect({ ...pending.info, delayMs: this.#now() - pending.closedAt });
  }

  /**
   * Gives the current socket up as if it had closed with `code` (a watchdog
   * that heard nothing: on a dead network the close handshake cannot finish
   * either, so waiting for the close event would wait for TCP). The socket is
   * closed and its late events ignored; the policy decides at once.
   */
  abandon(reason: string, code = 1006): void {
    const client = this.#client;
    if (!client || this.#stopped) return;
    const index = this.#current;
    this.#current = NOT_OPEN;
    client.close(1000, 'abandoned');
    this.#closed(index, client, code, reason);
  }

  /** Stops for good: cancels a pending reconnect and closes the socket (its close is still recorded). */
  stop(code = 1000, reason = ''): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#cancelTimer();
    this.#setState({ kind: 'stopped' });
    this.#client?.close(code, reason);
  }

  #open(first: boolean): void {
    const index = this.connections.length;
    this.connections.push({ welcomed: false, closeCode: undefined, closeReason: '' });
    this.#current = index;
    this.#setState({ kind: 'connecting', attempt: this.#tries });
    let socket: SocketLike;
    try {
      socket = this.#options.createSocket(this.url);
    } catch (error) {
      this.#current = NOT_OPEN;
      if (first) throw error;
      // The same URL opened before: whatever failed now may pass later.
      this.#closed(index, undefined, 1006, `could not open a socket: ${String(error)}`);
      return;
    }
    const client = new LobbyClient(
      this.#guard(socket, index),
      {
        welcome: (message) => {
          this.connections[index].welcomed = true;
          this.welcomes.push({
            connection: index,
            instanceId: message.instanceId,
            clientId: message.clientId,
            lobbyId: message.lobbyId,
          });
          this.welcome = message;
          this.decoder = client.decoder;
          this.#tries = 0;
          this.#liveSince = this.#now();
          this.#setState({ kind: 'live' });
          this.#events.welcome?.(message, client);
        },
        frame: (message) => {
          this.tick = message.tick;
          this.#events.frame?.(message, client);
        },
        status: (message) => {
          this.status = message;
          this.#events.status?.(message);
        },
        error: (message) => this.#events.error?.(message),
        close: (code, reason) => this.#closed(index, client, code, reason),
      },
      { protocolVersion: this.#options.protocolVersion, decode: this.#options.decode },
    );
    this.#client = client;
  }

  /**
   * The socket as LobbyClient sees it: events of a socket given up on are
   * dropped, and a frame the decoder refuses closes the socket (the next one
   * starts from a keyframe) instead of throwing out of the socket's listener
   * and leaving every later delta refused. An error listener is always
   * there: `ws` throws an 'error' nobody listens to (the close follows it).
   */
  #guard(socket: SocketLike, index: number): SocketLike {
    socket.addEventListener('error', () => {});
    const current = () => index === this.#current;
    return {
      get binaryType() {
        return socket.binaryType;
      },
      set binaryType(value: string) {
        socket.binaryType = value;
      },
      get readyState() {
        return socket.readyState;
      },
      send: (data) => socket.send(data),
      close: (code, reason) => socket.close(code, reason),
      addEventListener: (type, listener) => {
        const call = listener as (event: unknown) => void;
        socket.addEventListener(type, (event: unknown) => {
          if (!current()) return;
          if (type !== 'message') return call(event);
          try {
            call(event);
          } catch (error) {
            if (!(error instanceof FrameDecodeError || error instanceof ViewDecodeError))
              throw error;
            this.#events.decodeError?.(error);
            socket.close(1000, 'resync');
          }
        });
      },
    };
  }

  #closed(index: number, client: LobbyClient | undefined, code: number, reason: string): void {
    const record = this.connections[index];
    if (record.closeCode !== undefined) return;
    record.closeCode = code;
    record.closeReason = reason;
    this.#lastClose = record;
    if (client) this.#bytesBefore += client.bytesReceived;
    if (this.#client === client) this.#client = undefined;
    this.#current = NOT_OPEN;
    this.#events.close?.(code, reason);
    if (this.#stopped) return;
    const now = this.#now();
    if (this.state.kind === 'live' && now - this.#liveSince >= CONNECTION_STABLE_AFTER_MS)
      this.#attempt = 0;
    const decision = decideAfterClose(code, reason, this.#attempt, this.#random);
    if (decision.kind === 'refused') {
      this.#setState({ kind: 'refused', reason: decision.reason, code });
      return;
    }
    this.#attempt = decision.nextAttempt;
    this.#tries++;
    const retryAt = now + decision.delayMs;
    this.#setState(
      decision.kind === 'later'
        ? { kind: 'waiting', retryAt, reason: decision.reason, code }
        : {
            kind: 'reconnecting',
            attempt: this.#tries,
            retryAt,
            reason: describeClose(code, reason),
            code,
          },
    );
    const info = { delayMs: decision.delayMs, code, reason };
    const fire = () => {
      this.#pending = undefined;
      this.#reconnect(info);
    };
    const handle = this.#options.setTimeout
      ? this.#options.setTimeout(fire, decision.delayMs)
      : setTimeout(fire, decision.delayMs);
    this.#pending = { handle, info, closedAt: now };
  }

  #reconnect(info: Omit<ReconnectInfo, 'attempt'>): void {
    if (this.#stopped) return;
    this.reconnects++;
    this.#events.reconnect?.({ attempt: this.#tries, ...info });
    this.#open(false);
  }

  #cancelTimer(): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = undefined;
    if (this.#options.clearTimeout) this.#options.clearTimeout(pending.handle);
    else clearTimeout(pending.handle as ReturnType<typeof setTimeout>);
  }

  #setState(state: ReconnectState): void {
    this.state = state;
    this.#events.state?.(state);
  }
}
