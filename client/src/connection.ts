/**
 * The lobby connection as the page sees it: one logical session that
 * outlives its sockets. The reconnect loop and what each close code means
 * are protocol/'s ReconnectingLobbyClient (the same loop bots and tests
 * run); this adds what only the page needs: the browser's WebSocket, round
 * trip pings (whose pongs also give the server's clock), a watchdog for a
 * silent network, "try now" and the `online` event, the stats report's way
 * out, and the per-message timing the benchmark reads. Every new socket
 * starts from the keyframe the server sends on join.
 */
import {
  type ErrorMessage,
  type FrameMessage,
  type InputMode,
  type LobbyClient,
  type PingSample,
  ReconnectingLobbyClient,
  type ReconnectState,
  SEND_RATES,
  type SendRate,
  type SocketLike,
  type StatsReport,
  type StatusView,
  type ViewRect,
  type WelcomeMessage,
} from '../../protocol/index.js';

/** The loop's states, but for 'stopped': the page never stops its connection. */
export type ConnectionState = Exclude<ReconnectState, { kind: 'stopped' }>;

export interface ConnectionEvents {
  /** A socket joined: a new session (seqs and ticks restart, a keyframe follows). */
  welcome(message: WelcomeMessage): void;
  /**
   * A frame, decoded: `positions` are the decoder's codes (valid until the
   * next frame); `present` marks the particles a view frame holds (undefined:
   * all); `decodeMs` is how long its particle data took to decode.
   */
  frame(
    message: FrameMessage,
    positions: Uint16Array,
    present: Uint8Array | undefined,
    receivedAt: number,
    decodeMs: number,
  ): void;
  /** A pong of the current socket: round trip and the server's clock (times are performance.now()). */
  pong(sample: PingSample): void;
  status(message: StatusView): void;
  error(message: ErrorMessage): void;
  state(state: ConnectionState): void;
}

/** Round-trip time is measured this often. */
const PING_INTERVAL_MS = 2000;
/** Frames come 60 times a second: this much silence means the network is gone, even if TCP has not noticed. */
const SILENCE_LIMIT_MS = 5000;

export class Connection {
  readonly url: string;
  rttMs = Number.NaN;
  /** Time spent handling each message, decode included: the benchmark reads it. */
  onMessageTimed: ((ms: number, bytes: number) => void) | undefined;
  readonly #loop: ReconnectingLobbyClient;
  #lastMessageAt = 0;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  /** The send rate this page asks for; asked again on every new socket. */
  #rate: SendRate = SEND_RATES[0];

  constructor(url: string, events: ConnectionEvents) {
    this.url = url;
    this.#loop = new ReconnectingLobbyClient({
      url,
      createSocket: (socketUrl) => {
        this.#lastMessageAt = performance.now();
        return this.#timed(new WebSocket(socketUrl));
      },
      events: {
        welcome: (message, client) => {
          // A new socket starts at the server's rate: ask again for ours.
          if (this.#rate !== SEND_RATES[0]) client.requestRate(this.#rate);
          events.welcome(message);
        },
        frame: (message, client) => {
          const view = message.kind === 'view' ? client.view! : undefined;
          events.frame(
            message,
            view ? view.positions : client.decoder!.positions,
            view?.present,
            performance.now(),
            client.decodeMs,
          );
        },
        status: (message) => events.status(message),
        error: (message) => events.error(message),
        state: (state) => {
          if (state.kind === 'live') this.#startTimers(events);
          else this.#stopTimers();
          if (state.kind !== 'stopped') events.state(state);
        },
        decodeError: (error) => {
          console.warn(`swarmhost: frame refused (${error.code}): ${error.message}; resyncing`);
        },
      },
    });
    // Back online: whatever we were waiting for, try now.
    window.addEventListener('online', () => {
      if (this.state.kind === 'reconnecting') this.retryNow();
    });
  }

  get state(): ConnectionState {
    return this.#loop.state as ConnectionState;
  }

  /** The current socket's protocol client (undefined between sockets). */
  get client(): LobbyClient | undefined {
    return this.#loop.client;
  }

  /** Bytes received over every socket so far. */
  get bytesReceived(): number {
    return this.#loop.bytesReceived;
  }

  /** Sockets that were welcomed, the first one included. */
  get sessions(): number {
    return this.#loop.welcomes.length;
  }

  start(): void {
    this.#loop.start();
  }

  /** Skips the wait (the "try now" button, or the browser saying it is online again). */
  retryNow(): void {
    this.#loop.retryNow();
  }

  sendInput(x: number, y: number, mode: InputMode): number | undefined {
    return this.#loop.sendInput(x, y, mode);
  }

  spawn(x: number, y: number, count: number): number | undefined {
    return this.#loop.spawn(x, y, count);
  }

  /** Subscribes the live socket to a view (undefined: the whole world); false between sockets. */
  setView(rect: ViewRect | undefined): boolean {
    const client = this.#loop.live;
    client?.setView(rect);
    return client !== undefined;
  }

  /** Asks for at most `hz` frames per second, now and on every socket after this one. */
  setRate(hz: SendRate): void {
    if (hz === this.#rate) return;
    this.#rate = hz;
    this.#loop.live?.requestRate(hz);
  }

  get rate(): SendRate {
    return this.#rate;
  }

  /** Sends a stats report on the live socket; false between sockets (nothing sent). */
  sendStats(report: StatsReport): boolean {
    const client = this.#loop.live;
    client?.sendStats(report);
    return client !== undefined;
  }

  /** The socket with its message listeners timed (decode included) for the benchmark. */
  #timed(socket: WebSocket): SocketLike {
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
          const started = performance.now();
          this.#lastMessageAt = started;
          (listener as (event: MessageEvent) => void)(event);
          this.onMessageTimed?.(
            performance.now() - started,
            (event.data as ArrayBuffer).byteLength ?? 0,
          );
        });
      },
    };
  }

  #startTimers(events: ConnectionEvents): void {
    this.#stopTimers();
    const ping = () => {
      const client = this.#loop.live;
      void client?.pingSample().then((sample) => {
        // A pong of a socket since replaced says nothing about this one.
        if (!sample || this.#loop.client !== client) return;
        this.rttMs = sample.rttMs;
        events.pong(sample);
      });
    };
    this.#pingTimer = setInterval(() => {
      if (performance.now() - this.#lastMessageAt > SILENCE_LIMIT_MS) {
        // On a dead network the close handshake cannot finish either: give
        // this socket up now (its late events are ignored) and reconnect.
        this.#loop.abandon('no data from the server');
        return;
      }
      ping();
    }, PING_INTERVAL_MS);
    ping();
  }

  #stopTimers(): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }
}
