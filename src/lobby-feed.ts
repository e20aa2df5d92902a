/**
 * A lobby's feed: the one path frames and status take from a lobby to its
 * clients, handle → feed → sockets. It owns the lobby's memoised encoder,
 * the lobby's status as its clients were last told it, and per client what
 * that client was last sent and its send rate (send-rate.ts).
 *
 * On every new frame it runs each client's net task:
 * - thin to the client's rate: below the tick rate, send on the ticks where
 *   tick·rate/tickRate steps up, the same ticks for every client of a rate,
 *   so their (base, tick) pairs stay shared (skips counted as `rate`);
 * - skip (counted as `backpressure`) while the client's socket holds more
 *   than the high-water mark, so a slow reader costs bounded memory and
 *   never slows the others; the rate control steps such a client down;
 * - else encode against the frame this client last got (one encode per
 *   (base, tick) for everyone in step; a keyframe once that base has left
 *   the ring) and hand it its own small header and the shared payload,
 *   which the session writes as one message without copying the payload.
 *
 * Status is coalesced: changes (joins, leaves, spawns) mark it dirty, and
 * it goes out at most once per tick, encoded once for every client, with
 * only the fields that changed. A joining client first gets the status as
 * the others were last told it, in full, so the changes that follow apply
 * to the same view. A phase that ends the lobby for its clients is told at
 * once, and the feed closes them with its code.
 *
 * A client's failure is its own: the feed tells it and goes on to the next.
 *
 * Viewport subscriptions: a client with a view (`setView`) takes the view
 * path beside the whole-world one, the same rate, backpressure and base
 * bookkeeping, but its payload is its tiles' chunks (tile-encoder.ts).
 */
import {
  encodeFrameHead,
  encodeMessage,
  type FrameKind,
  type FrameMessage,
  LOBBY_PHASE_RULES,
  type LobbyStatus,
  quantBitsFor,
  type StatusMessage,
  type ViewRect,
} from '../protocol/index.js';
import type { LobbyHandle } from '../lobbies/index.js';
import { type EpochFrame, FrameEncoder } from './frame-encoder.js';
import type { Metrics } from './metrics.js';
import type { RuntimeSettings } from './runtime-settings.js';
import { isDue, SendRate, type SendRateLimits } from './send-rate.js';
import { type ClientView, TileEncoder } from './tile-encoder.js';

/**
 * Why a frame was not sent to a client (the `reason` label of
 * swarmhost_frames_skipped_total): `backpressure`, its socket was full (lag);
 * `rate`, its send rate is below the tick rate (policy).
 */
export const FRAME_SKIP_REASONS = ['backpressure', 'rate'] as const;
type FrameSkipReason = (typeof FRAME_SKIP_REASONS)[number];
const BACKPRESSURE: FrameSkipReason = 'backpressure';
const RATE: FrameSkipReason = 'rate';

/** What the feed needs of a client: ClientSession implements it. */
export interface FeedClient {
  readonly clientId: number;
  /** Bytes handed to its socket and not yet written out. */
  readonly bufferedBytes: number;
  /**
   * Writes one frame message, its own head then the shared tail, as one
   * WebSocket message; false if it takes no frames now (closing).
   */
  sendFrame(head: Uint8Array, tail: Uint8Array, kind: FrameKind): boolean;
  /** Writes an encoded status message (shared bytes: never modified). */
  sendStatus(bytes: Uint8Array): void;
  /** Its lobby ended for its clients: close with this code. */
  close(code: number, reason: string): void;
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
  /** Caught up (welcome, full status, first keyframe): only then is it sent frames and changes. */
  live: boolean;
  rate: SendRate;
  /** Its viewport subscription; undefined: the whole world. */
  view: ClientView | undefined;
}

/** The status fields a client's view is made of (everything but id and tick). */
const STATUS_FIELDS = ['phase', 'clients', 'particles', 'maxParticles'] as const;

export class LobbyFeed {
  readonly handle: LobbyHandle;
  #encoder: FrameEncoder;
  #tiles: TileEncoder;
  #settings: RuntimeSettings;
  #metrics: Metrics;
  #rateLimits: SendRateLimits;
  #clients = new Map<FeedClient, Sent>();
  /** The status as the clients were last told it. */
  #told: LobbyStatus;
  /** The tick of the last status sent (-1: none yet); one status per tick at most. */
  #toldTick = -1;
  /** The status changed since the clients were last told. */
  #statusDirty = false;
  #statusTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    handle: LobbyHandle,
    settings: RuntimeSettings,
    metrics: Metrics,
    rateLimits: SendRateLimits,
  ) {
    this.handle = handle;
    this.#settings = settings;
    this.#metrics = metrics;
    this.#rateLimits = rateLimits;
    this.#encoder = new FrameEncoder(quantBitsFor(handle.settings.worldSize), (kind, seconds) => {
      metrics.frameEncodes.inc({ kind });
      metrics.encodeDuration.observe({ kind }, seconds);
    });
    this.#tiles = new TileEncoder(
      quantBitsFor(handle.settings.worldSize),
      handle.settings.worldSize,
      handle.frames.capacity,
      (kind) => metrics.tileEncodes.inc({ kind }),
    );
    this.#told = handle.currentStatus();
    handle.status.subscribe((status) => this.#onStatus(status));
  }

  /** Clients subscribed. */
  get size(): number {
    return this.#clients.size;
  }

  /** Subscribes a client; it gets status and frames once `catchUp` has run. */
  add(client: FeedClient): void {
    const rate = new SendRate(this.#rateLimits, performance.now());
    this.#clients.set(client, {
      seq: -1,
      tick: -1,
      priorSeq: -1,
      skipped: 0,
      live: false,
      rate,
      view: undefined,
    });
  }

  remove(client: FeedClient): boolean {
    return this.#clients.delete(client);
  }

  /** Adds this lobby's clients to `counts`, by the rate each is sent at now (for the gauge). */
  countRates(counts: Map<number, number>): void {
    for (const sent of this.#clients.values()) {
      const hz = this.#rateOf(sent.rate);
      counts.set(hz, (counts.get(hz) ?? 0) + 1);
    }
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

  /** The rate `client` is sent at now, per second. */
  sendRate(client: FeedClient): number | undefined {
    const sent = this.#clients.get(client);
    return sent && this.#rateOf(sent.rate);
  }

  /** The client asks for at most `hz` frames per second. */
  askRate(client: FeedClient, hz: number): void {
    this.#clients.get(client)?.rate.ask(hz);
  }

  /**
   * The client subscribes to the tiles covering `rect`, or (undefined) to
   * the whole world again, which starts with a keyframe: its frame decoder
   * holds no recent whole frame.
   */
  setView(client: FeedClient, rect: ViewRect | undefined): void {
    const sent = this.#clients.get(client);
    if (!sent) return;
    if (rect) {
      sent.view = {
        tiles: this.#tiles.cover(rect),
        held: sent.view?.held ?? new Set(),
        priorHeld: sent.view?.priorHeld ?? new Set(),
      };
    } else if (sent.view) {
      sent.view = undefined;
      sent.seq = -1;
    }
  }

  /** A round trip the client measured or the server did, ms (feeds its rate control). */
  roundTrip(client: FeedClient, ms: number): void {
    this.#clients.get(client)?.rate.rtt(ms);
  }

  /**
   * A newly subscribed client (after its welcome): the status as the others
   * were last told it, in full, then the newest frame (a keyframe) without
   * waiting a tick.
   */
  catchUp(client: FeedClient): void {
    const sent = this.#clients.get(client);
    if (!sent || sent.live) return;
    sent.live = true;
    const { id, tick: _tick, ...fields } = this.#told;
    const { tick } = this.handle.currentStatus();
    const message: StatusMessage = { t: 'status', lobbyId: id, tick, ...fields };
    try {
      client.sendStatus(encodeMessage(message));
    } catch (error) {
      return client.fail(error);
    }
    this.#offer(client, sent, wallClockMs(), performance.now());
  }

  /** A new frame is in the ring: tell what changed, then offer it to every client. */
  publish(): void {
    this.#flushStatus();
    // One send time for the whole fan-out: the clients' latencies then
    // include their wait behind the clients served before them.
    const now = wallClockMs();
    const monotonic = performance.now();
    let thinned = 0;
    for (const [client, sent] of this.#clients) {
      if (sent.live && !this.#offer(client, sent, now, monotonic)) thinned++;
    }
    if (thinned > 0) this.#metrics.framesSkipped.inc({ reason: RATE }, thinned);
  }

  /** Stops the feed's timer (the lobby is gone). */
  close(): void {
    clearTimeout(this.#statusTimer);
    this.#statusTimer = undefined;
  }

  /** Offers the newest frame; false if the client's rate skipped it (policy). */
  #offer(client: FeedClient, sent: Sent, now: number, monotonic: number): boolean {
    try {
      return this.#sendNewest(client, sent, now, monotonic);
    } catch (error) {
      client.fail(error);
      return true;
    }
  }

  #sendNewest(client: FeedClient, sent: Sent, now: number, monotonic: number): boolean {
    const { frames } = this.handle;
    const seq = frames.newestSeq;
    const frame = frames.get(seq);
    if (!frame || frame.tick === sent.tick) return true;
    const { sendHighWaterBytes } = this.#settings.get();
    const tickRate = this.handle.settings.tickRate;
    const cap = this.#cap();
    const change = sent.rate.judge(monotonic, cap);
    if (change) this.#metrics.sendRateChanges.inc({ direction: change.direction });
    if (!isDue(frame.tick, sent.tick, sent.rate.hz(cap), tickRate)) return false;
    const buffered = client.bufferedBytes;
    sent.rate.due(buffered);
    if (buffered > sendHighWaterBytes) {
      sent.skipped++;
      this.#metrics.framesSkipped.inc({ reason: BACKPRESSURE });
      return true;
    }
    // A base that has left the ring (undefined here) means a keyframe.
    const base = sent.seq >= 0 ? frames.get(sent.seq) : undefined;
    if (sent.view) return this.#sendView(client, sent, seq, frame, base, now);
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
    if (!client.sendFrame(encodeFrameHead(header), encoded.tail, encoded.kind)) return true;
    this.#metrics.framesSent.inc({ kind: encoded.kind });
    // After a delta the client holds this frame and its base; after a keyframe only this one.
    sent.priorSeq = encoded.kind === 'delta' ? sent.seq : -1;
    sent.seq = seq;
    sent.tick = frame.tick;
    return true;
  }

  /** The view path: the client's tiles, deltas for those it held at its base. */
  #sendView(
    client: FeedClient,
    sent: Sent,
    seq: number,
    frame: EpochFrame,
    base: EpochFrame | undefined,
    now: number,
  ): boolean {
    const view = sent.view!;
    const prior = sent.priorSeq >= 0 ? this.handle.frames.get(sent.priorSeq) : undefined;
    const encoded = this.#tiles.encode(view, frame, base, prior);
    const header: Omit<FrameMessage, 'data'> = {
      t: 'frame',
      tick: frame.tick,
      kind: 'view',
      n: frame.count,
      ack: this.handle.lastAck(client.clientId),
      sent: now,
    };
    if (encoded.base !== undefined) header.base = encoded.base;
    if (encoded.prior !== undefined) header.prior = encoded.prior;
    if (!client.sendFrame(encodeFrameHead(header), encoded.tail, 'view')) return true;
    this.#metrics.framesSent.inc({ kind: 'view' });
    // The client holds this frame and the one before (its ViewDecoder keeps
    // both); priorHeld is empty when that one was not a view frame. After a
    // frame of keys only (a new view, a base gone from the ring, a restarted
    // lobby) the one before is not named: it may be of another incarnation.
    view.priorHeld = view.held;
    view.held = encoded.held;
    sent.priorSeq = encoded.base !== undefined ? sent.seq : -1;
    sent.seq = seq;
    sent.tick = frame.tick;
    return true;
  }

  /** The server's cap on any client's rate: its send rate setting, at most the tick rate. */
  #cap(): number {
    return Math.min(this.#settings.get().sendRate, this.handle.settings.tickRate);
  }

  #rateOf(rate: SendRate): number {
    return rate.hz(this.#cap());
  }

  #onStatus(status: LobbyStatus): void {
    const closes = LOBBY_PHASE_RULES[status.phase].closesClients;
    if (closes) {
      this.#flushStatus(true);
      for (const client of [...this.#clients.keys()]) client.close(closes.code, closes.reason);
      return;
    }
    this.#statusDirty = true;
    this.#scheduleStatus();
  }

  /** Told with the next frame, or after one tick if no frame comes. */
  #scheduleStatus(): void {
    this.#statusTimer ??= setTimeout(
      () => this.#flushStatus(),
      1000 / this.handle.settings.tickRate,
    );
  }

  /**
   * Sends what changed since the clients were last told, once, to every
   * live client: at most once per tick unless `final` (a phase that closes
   * them), so a main thread slow to see frames still sends one per tick.
   */
  #flushStatus(final = false): void {
    if (!this.#statusDirty && !final) return;
    clearTimeout(this.#statusTimer);
    this.#statusTimer = undefined;
    const now = this.handle.currentStatus();
    if (!final && now.tick === this.#toldTick) return this.#scheduleStatus();
    this.#statusDirty = false;
    const message: StatusMessage = { t: 'status', lobbyId: now.id, tick: now.tick };
    let changed = false;
    for (const field of STATUS_FIELDS) {
      if (now[field] === this.#told[field]) continue;
      (message as unknown as Record<string, unknown>)[field] = now[field];
      changed = true;
    }
    if (!changed) return;
    this.#told = now;
    this.#toldTick = now.tick;
    const bytes = encodeMessage(message);
    for (const [client, sent] of this.#clients) {
      if (!sent.live) continue;
      try {
        client.sendStatus(bytes);
      } catch (error) {
        client.fail(error);
      }
    }
  }
}

/** Ms since the Unix epoch with sub-millisecond resolution (Date.now() has whole ms). */
const wallClockMs = (): number => performance.timeOrigin + performance.now();
