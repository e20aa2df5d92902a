/**
 * A lobby's feed: the one path frames take from a lobby to its clients,
 * handle → feed → sockets. It owns the lobby's memoised encoder and, per
 * client, what that client was last sent. On every new frame it runs each
 * client's net task:
 * - thin to the send rate: below the tick rate, send on the ticks where
 *   tick·rate/tickRate steps up, the same ticks for every client, so their
 *   (base, tick) pairs stay shared;
 * - skip (counted) while the client's socket holds more than the high-water
 *   mark, so a slow reader costs bounded memory and never slows the others;
 * - else encode against the frame this client last got (one encode per
 *   (base, tick) for everyone in step; a keyframe once that base has left
 *   the ring) and hand it a per-client header over the shared payload.
 * A client's failure is its own: the feed tells it and goes on to the next.
 */
import {
  encodeFrameMessage,
  type FrameKind,
  type FrameMessage,
  quantBitsFor,
} from '../protocol/index.js';
import type { LobbyHandle } from '../lobbies/index.js';
import { FrameEncoder } from './frame-encoder.js';
import type { Metrics } from './metrics.js';
import type { RuntimeSettings } from './runtime-settings.js';

/** Why a frame was not sent to a client (the `reason` label of swarmhost_frames_skipped_total). */
export const FRAME_SKIP_REASONS = ['backpressure'] as const;
type FrameSkipReason = (typeof FRAME_SKIP_REASONS)[number];
const BACKPRESSURE: FrameSkipReason = 'backpressure';

/** What the feed needs of a client: ClientSession implements it. */
export interface FeedClient {
  readonly clientId: number;
  /** Bytes handed to its socket and not yet written out. */
  readonly bufferedBytes: number;
  /** Writes one frame message to its socket; false if it takes no frames now (closing). */
  sendFrame(bytes: Uint8Array, kind: FrameKind): boolean;
  /** Sending to it threw: it closes itself (1011); the feed carries on. */
  fail(error: unknown): void;
}

interface Sent {
  /** Ring seq and tick of the last frame sent; -1 before the first. */
  seq: number;
  tick: number;
  /** Ring seq of the frame sent before it, if the last one was a delta (the client holds both); else -1. */
  priorSeq: number;
  /** Frames skipped because its socket was full. */
  skipped: number;
}

export class LobbyFeed {
  readonly handle: LobbyHandle;
  #encoder: FrameEncoder;
  #settings: RuntimeSettings;
  #metrics: Metrics;
  #clients = new Map<FeedClient, Sent>();

  constructor(handle: LobbyHandle, settings: RuntimeSettings, metrics: Metrics) {
    this.handle = handle;
    this.#settings = settings;
    this.#metrics = metrics;
    this.#encoder = new FrameEncoder(quantBitsFor(handle.settings.worldSize), (kind, seconds) => {
      metrics.frameEncodes.inc({ kind });
      metrics.encodeDuration.observe({ kind }, seconds);
    });
  }

  /** Clients subscribed. */
  get size(): number {
    return this.#clients.size;
  }

  /** Subscribes a client; it gets frames from the next one published (or `catchUp`). */
  add(client: FeedClient): void {
    this.#clients.set(client, { seq: -1, tick: -1, priorSeq: -1, skipped: 0 });
  }

  remove(client: FeedClient): boolean {
    return this.#clients.delete(client);
  }

  /** The subscribed clients (for tests and tools; the feed itself needs no lookup). */
  clients(): IterableIterator<FeedClient> {
    return this.#clients.keys();
  }

  /** The subscribed client with this id, if any (a scan: for tests and tools). */
  client(clientId: number): FeedClient | undefined {
    for (const client of this.#clients.keys()) if (client.clientId === clientId) return client;
    return undefined;
  }

  /** Frames `client` did not get because its socket was full. */
  framesSkipped(client: FeedClient): number {
    return this.#clients.get(client)?.skipped ?? 0;
  }

  /** Sends a newly subscribed client the newest frame (a keyframe) without waiting a tick. */
  catchUp(client: FeedClient): void {
    const sent = this.#clients.get(client);
    if (sent) this.#offer(client, sent, wallClockMs());
  }

  /** A new frame is in the ring: offer it to every client. */
  publish(): void {
    // One send time for the whole fan-out: the clients' latencies then
    // include their wait behind the clients served before them.
    const now = wallClockMs();
    for (const [client, sent] of this.#clients) this.#offer(client, sent, now);
  }

  #offer(client: FeedClient, sent: Sent, now: number): void {
    try {
      this.#sendNewest(client, sent, now);
    } catch (error) {
      client.fail(error);
    }
  }

  #sendNewest(client: FeedClient, sent: Sent, now: number): void {
    const { frames } = this.handle;
    const seq = frames.newestSeq;
    const frame = frames.get(seq);
    if (!frame || frame.tick === sent.tick) return;
    const { sendRate, sendHighWaterBytes } = this.#settings.get();
    const perTick = sendRate / this.handle.settings.tickRate;
    if (
      perTick < 1 &&
      sent.tick >= 0 &&
      Math.floor(frame.tick * perTick) === Math.floor(sent.tick * perTick)
    ) {
      return;
    }
    if (client.bufferedBytes > sendHighWaterBytes) {
      sent.skipped++;
      this.#metrics.framesSkipped.inc({ reason: BACKPRESSURE });
      return;
    }
    // A base that has left the ring (undefined here) means a keyframe.
    const base = sent.seq >= 0 ? frames.get(sent.seq) : undefined;
    const prior = sent.priorSeq >= 0 ? frames.get(sent.priorSeq) : undefined;
    const encoded = this.#encoder.encode(frame, base, prior);
    const header: Omit<FrameMessage, 'data'> = {
      t: 'frame',
      tick: frame.tick,
      kind: encoded.kind,
      n: frame.count,
      ack: this.handle.lastAck(client.clientId),
      sent: now,
    };
    if (encoded.base !== undefined) header.base = encoded.base;
    if (encoded.prior !== undefined) header.prior = encoded.prior;
    // Only the header is packed per client; the payload tail is shared.
    if (!client.sendFrame(encodeFrameMessage(header, encoded.tail), encoded.kind)) return;
    this.#metrics.framesSent.inc({ kind: encoded.kind });
    // After a delta the client holds this frame and its base; after a keyframe only this one.
    sent.priorSeq = encoded.kind === 'delta' ? sent.seq : -1;
    sent.seq = seq;
    sent.tick = frame.tick;
  }
}

/** Ms since the Unix epoch with sub-millisecond resolution (Date.now() has whole ms). */
const wallClockMs = (): number => performance.timeOrigin + performance.now();
