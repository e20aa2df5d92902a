/**
 * One load-test bot: a ReconnectingLobbyClient over `ws` (so it follows a
 * lobby that moves between instances, as players do), counting what it
 * receives and timing each frame from the server's send stamp to its own
 * decode on the same machine clock. Every STATS_REPORT_INTERVAL_MS it pings and
 * reports its experience to the server in a `stats` message, as the
 * browser does.
 */
import WebSocket from 'ws';
import {
  type FrameMessage,
  type LobbyClient,
  ReconnectingLobbyClient,
  STATS_REPORT_INTERVAL_MS,
  type SocketLike,
  type StatsReport,
} from '../../protocol/index.js';
import type { BotSpec } from './bot-protocol.js';

/** Wall-clock ms with sub-ms resolution, comparable with a frame's `sent`. */
export const wallClockMs = (): number => performance.timeOrigin + performance.now();

/** What the bot's worker collects across its bots between two samples. */
export interface BotSink {
  /** End-to-end latency of one frame, ms. */
  latency(ms: number): void;
}

export class Bot {
  readonly connection: ReconnectingLobbyClient;
  /** Totals since the bot started (the worker samples and differences them). */
  frames = 0;
  skipped = 0;
  #lastTick = -1;
  #rttMs: number | undefined;
  #window = { frames: 0, skipped: 0, decodeMs: 0, latencyMs: 0, since: performance.now() };
  #timer: NodeJS.Timeout;
  #sink: BotSink;

  constructor({ url, decode, rate }: BotSpec, sink: BotSink) {
    this.#sink = sink;
    this.connection = new ReconnectingLobbyClient({
      url,
      decode,
      createSocket: nodeBufferSocket,
      events: {
        welcome: (_welcome, client) => {
          this.#lastTick = -1;
          if (rate !== undefined) client.requestRate(rate);
        },
        frame: (frame, client) => this.#onFrame(frame, client),
      },
    });
    this.connection.start();
    // Spread the bots' reports over the interval rather than in bursts.
    const first = setTimeout(() => {
      this.#timer = setInterval(() => this.#report(), STATS_REPORT_INTERVAL_MS);
      this.#timer.unref();
    }, Math.random() * STATS_REPORT_INTERVAL_MS);
    first.unref();
    this.#timer = first;
  }

  get bytesReceived(): number {
    return this.connection.bytesReceived;
  }

  get live(): boolean {
    return this.connection.live !== undefined;
  }

  stop(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    this.connection.stop(1000, 'load test over');
  }

  #onFrame(frame: FrameMessage, client: LobbyClient): void {
    const latency = wallClockMs() - frame.sent;
    this.#sink.latency(latency);
    const gap = this.#lastTick >= 0 ? Math.max(0, frame.tick - this.#lastTick - 1) : 0;
    this.#lastTick = frame.tick;
    this.frames++;
    this.skipped += gap;
    const w = this.#window;
    w.frames++;
    w.skipped += gap;
    w.decodeMs += client.decodeMs;
    w.latencyMs += latency;
  }

  /** Reports the last window to the server and starts the next; pings for the next report's RTT. */
  #report(): void {
    const client = this.connection.live;
    if (!client) return;
    const w = this.#window;
    const now = performance.now();
    const seconds = (now - w.since) / 1000;
    const report: StatsReport = {
      fps: round(w.frames / seconds),
      received: w.frames,
      skipped: w.skipped,
      decodeMs: w.frames > 0 ? round(w.decodeMs / w.frames) : 0,
    };
    if (w.frames > 0)
      report.latencyMs = round(Math.min(60_000, Math.max(0, w.latencyMs / w.frames)));
    if (this.#rttMs !== undefined) report.rttMs = round(this.#rttMs);
    client.sendStats(report);
    this.#window = { frames: 0, skipped: 0, decodeMs: 0, latencyMs: 0, since: now };
    void client.ping().then((rtt) => {
      if (Number.isFinite(rtt)) this.#rttMs = rtt;
    });
  }
}

/**
 * A `ws` socket that hands messages over as Buffers, whatever binaryType
 * LobbyClient asks for: a Buffer is the Uint8Array LobbyClient reads, and
 * the ArrayBuffer it asks for would be a copy of every frame (in a
 * profile at 250 bots, that copy and its garbage were a third of a bot
 * thread's time).
 */
function nodeBufferSocket(url: string): SocketLike {
  const socket = new WebSocket(url);
  return {
    get binaryType() {
      return socket.binaryType;
    },
    set binaryType(_ignored: string) {},
    get readyState() {
      return socket.readyState;
    },
    send: (data) => socket.send(data),
    close: (code, reason) => socket.close(code, reason),
    addEventListener: (type, listener) =>
      socket.addEventListener(type, listener as (event: unknown) => void),
  };
}

const round = (value: number): number => Math.round(value * 1000) / 1000;
