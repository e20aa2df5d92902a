/**
 * The lobby connection as the page sees it: one logical session that
 * outlives its sockets. It opens a WebSocket, lets protocol/lobby-client.ts
 * speak the protocol over it, pings for the round-trip time, watches for a
 * silent network, and when the socket goes away decides (reconnect-policy)
 * whether to reconnect, when, or to stop and show the server's reason.
 * Every new socket starts from the keyframe the server sends on join.
 */
import {
  type ErrorMessage,
  FrameDecodeError,
  type FrameMessage,
  type InputMode,
  LobbyClient,
  type SocketLike,
  type StatusMessage,
  type WelcomeMessage,
} from '../../protocol/index.js';
import { decideAfterClose, describeClose } from './reconnect-policy.js';

export type ConnectionState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'live' }
  | { kind: 'reconnecting'; attempt: number; retryAt: number; reason: string }
  /** The server is full: waiting a long while before asking again. */
  | { kind: 'waiting'; retryAt: number; reason: string; code: number }
  /** Retrying cannot help (close codes in FATAL_CLOSE_CODES): stopped. */
  | { kind: 'refused'; reason: string; code: number };

export interface ConnectionEvents {
  /** A socket joined: a new session (seqs and ticks restart, a keyframe follows). */
  welcome(message: WelcomeMessage): void;
  /** A frame, decoded: `positions` are the decoder's codes (valid until the next frame). */
  frame(message: FrameMessage, positions: Uint16Array, receivedAt: number): void;
  status(message: StatusMessage): void;
  error(message: ErrorMessage): void;
  state(state: ConnectionState): void;
}

/** Round-trip time is measured this often. */
const PING_INTERVAL_MS = 2000;
/** Frames come 60 times a second: this much silence means the network is gone, even if TCP has not noticed. */
const SILENCE_LIMIT_MS = 5000;
/** A connection that stayed up this long was a success: the next failure starts the backoff afresh. */
const STABLE_AFTER_MS = 10_000;

export class Connection {
  readonly url: string;
  state: ConnectionState = { kind: 'connecting', attempt: 0 };
  /** The current socket's protocol client (undefined between sockets). */
  client: LobbyClient | undefined;
  /** Bytes received over every socket so far. */
  bytesReceived = 0;
  rttMs = Number.NaN;
  /** Sockets that were welcomed, the first one included. */
  sessions = 0;
  /** Time spent handling each message, decode included: the benchmark reads it. */
  onMessageTimed: ((ms: number, bytes: number) => void) | undefined;
  readonly #events: ConnectionEvents;
  #attempt = 0;
  #generation = 0;
  #liveSince = 0;
  #lastMessageAt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;

  constructor(url: string, events: ConnectionEvents) {
    this.url = url;
    this.#events = events;
    // Back online: whatever we were waiting for, try now.
    window.addEventListener('online', () => {
      if (this.state.kind === 'reconnecting') this.retryNow();
    });
  }

  start(): void {
    this.#open();
  }

  /** Skips the wait (the "try now" button, or the browser saying it is online again). */
  retryNow(): void {
    if (this.state.kind === 'live' || this.state.kind === 'connecting') return;
    clearTimeout(this.#retryTimer);
    this.#open();
  }

  sendInput(x: number, y: number, mode: InputMode): number | undefined {
    return this.#live()?.sendInput(x, y, mode);
  }

  spawn(x: number, y: number, count: number): number | undefined {
    return this.#live()?.spawn(x, y, count);
  }

  #live(): LobbyClient | undefined {
    return this.state.kind === 'live' && this.client?.socket.readyState === WebSocket.OPEN
      ? this.client
      : undefined;
  }

  #setState(state: ConnectionState): void {
    this.state = state;
    this.#events.state(state);
  }

  #open(): void {
    const generation = ++this.#generation;
    this.#setState({ kind: 'connecting', attempt: this.#attempt });
    const socket = new WebSocket(this.url);
    const client = new LobbyClient(this.#guard(socket, generation), {
      welcome: (message) => {
        // The backoff is not reset here but when this socket closes, if it
        // stayed up long enough: a server that welcomes and then drops us at
        // once must not be hammered at the shortest delay.
        this.#liveSince = performance.now();
        this.sessions++;
        this.#setState({ kind: 'live' });
        this.#startTimers(generation);
        this.#events.welcome(message);
      },
      frame: (message, lobbyClient) => {
        this.#events.frame(message, lobbyClient.decoder!.positions, performance.now());
      },
      status: (message) => this.#events.status(message),
      error: (message) => this.#events.error(message),
      close: (code, reason) => {
        if (generation === this.#generation) this.#onClose(code, reason);
      },
    });
    this.client = client;
    this.#lastMessageAt = performance.now();
  }

  /**
   * The socket as LobbyClient sees it, with its message listener wrapped:
   * counts bytes, times the handling (decode included), and turns a frame
   * the decoder refuses into a reconnect, which resyncs from a keyframe,
   * instead of an exception that would leave every later delta refused.
   */
  #guard(socket: WebSocket, generation: number): SocketLike {
    return {
      get binaryType() {
        return socket.binaryType;
      },
      set binaryType(value: string) {
        socket.binaryType = value as BinaryType;
      },
      get readyState() {
        return socket.readyState;
      },
      send: (data) => socket.send(data),
      close: (code, reason) => socket.close(code, reason),
      addEventListener: (type, listener) => {
        if (type !== 'message') return socket.addEventListener(type, listener as EventListener);
        socket.addEventListener('message', (event) => {
          if (generation !== this.#generation) return;
          const started = performance.now();
          this.#lastMessageAt = started;
          const bytes = (event.data as ArrayBuffer).byteLength ?? 0;
          this.bytesReceived += bytes;
          try {
            (listener as (event: MessageEvent) => void)(event);
          } catch (error) {
            if (!(error instanceof FrameDecodeError)) throw error;
            console.warn(`swarmhost: frame refused (${error.code}): ${error.message}; resyncing`);
            socket.close(1000, 'resync');
            return;
          }
          this.onMessageTimed?.(performance.now() - started, bytes);
        });
      },
    };
  }

  #startTimers(generation: number): void {
    this.#stopTimers();
    this.#pingTimer = setInterval(() => {
      const client = this.client;
      if (generation !== this.#generation || !client) return;
      if (performance.now() - this.#lastMessageAt > SILENCE_LIMIT_MS) {
        // On a dead network the close handshake cannot finish either, so
        // do not wait for the close event: give up on this socket now
        // (its late events are ignored) and reconnect.
        client.close(1000, 'no data');
        this.#onClose(1006, 'no data from the server');
        return;
      }
      void client.ping().then((rtt) => {
        if (generation === this.#generation) this.rttMs = rtt;
      });
    }, PING_INTERVAL_MS);
    void this.client?.ping().then((rtt) => {
      if (generation === this.#generation) this.rttMs = rtt;
    });
  }

  #stopTimers(): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  #onClose(code: number, reason: string): void {
    this.#stopTimers();
    this.client = undefined;
    // Invalidate the closed socket's late events before anything else runs.
    this.#generation++;
    const now = performance.now();
    if (this.state.kind === 'live' && now - this.#liveSince >= STABLE_AFTER_MS) this.#attempt = 0;
    const decision = decideAfterClose(code, reason, this.#attempt);
    if (decision.kind === 'refused') {
      this.#setState({ kind: 'refused', reason: decision.reason, code });
      return;
    }
    const retryAt = now + decision.delayMs;
    this.#setState(
      decision.kind === 'later'
        ? { kind: 'waiting', retryAt, reason: decision.reason, code }
        : {
            kind: 'reconnecting',
            attempt: this.#attempt + 1,
            retryAt,
            reason: describeClose(code, reason),
          },
    );
    this.#attempt++;
    this.#retryTimer = setTimeout(() => this.#open(), decision.delayMs);
  }
}
