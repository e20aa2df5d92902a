/**
 * The server's side of a lobby. Client sessions talk to a lobby only through
 * this handle; the handle talks to the lobby only by posting LobbyCommands
 * and receiving LobbyEvents, so where the lobby runs is the host's business.
 *
 * It owns the server-side views of the lobby:
 * - `frames`: a broadcast ring of the last K frames, stored once and read by
 *   every session (a session whose base left the ring gets a keyframe);
 * - `status`: a watch of the lobby's status (latest value only);
 * - send credits for the lobby's bounded inbox, so `trySend` can answer
 *   'full' at once without a round trip: one credit per input posted, given
 *   back when a frame reports how many inputs the lobby drained.
 */
import { LOBBY_PHASE_RULES, type LobbyInput, type LobbyStatus } from '../protocol/index.js';
import { Broadcast } from './channels/broadcast.js';
import type { SendResult } from './channels/mpsc.js';
import { Watch } from './channels/watch.js';
import type {
  FaultKind,
  FrameEvent,
  LobbyCommand,
  LobbyEvent,
  LobbySettings,
} from './lobby-messages.js';

export type LobbyNotice = Exclude<LobbyEvent, FrameEvent | { type: 'status' }>;

export class LobbyHandle {
  readonly id: string;
  readonly settings: LobbySettings;
  readonly frames: Broadcast<FrameEvent>;
  readonly status: Watch<LobbyStatus>;
  #post: (command: LobbyCommand) => void;
  #inFlight = 0;
  #acks = new Map<number, number>();
  #noticeListeners = new Set<(notice: LobbyNotice) => void>();
  #tick = 0;

  /**
   * `onFrameEvicted` hears each frame as it leaves the ring, when no session
   * can read it any more: the host recycles its positions buffer there.
   */
  constructor(
    settings: LobbySettings,
    frameRing: number,
    post: (command: LobbyCommand) => void,
    onFrameEvicted?: (frame: FrameEvent) => void,
  ) {
    this.id = settings.id;
    this.settings = settings;
    this.frames = new Broadcast<FrameEvent>(frameRing, { onEvict: onFrameEvicted });
    this.status = new Watch<LobbyStatus>({
      id: settings.id,
      phase: 'starting',
      tick: 0,
      clients: 0,
      particles: settings.particles,
      maxParticles: settings.maxParticles,
    });
    this.#post = post;
  }

  /** True once the lobby has closed or failed: nothing more will arrive. */
  get ended(): boolean {
    return LOBBY_PHASE_RULES[this.status.get().phase].ended;
  }

  /** The newest tick the lobby has published. */
  get tick(): number {
    return this.#tick;
  }

  /** The current status with the live tick (the watch changes only on real changes). */
  currentStatus(): LobbyStatus {
    return { ...this.status.get(), tick: this.#tick };
  }

  /** Inputs posted but not yet taken by a tick. */
  get inboxDepth(): number {
    return this.#inFlight;
  }

  /** Non-blocking send to the lobby's bounded inbox. */
  trySend(clientId: number, input: LobbyInput): SendResult {
    if (!LOBBY_PHASE_RULES[this.status.get().phase].acceptsInputs) return 'closed';
    if (this.#inFlight >= this.settings.inboxCapacity) return 'full';
    this.#inFlight++;
    this.#post({ type: 'input', clientId, input });
    return 'ok';
  }

  join(clientId: number): void {
    this.#acks.set(clientId, -1);
    this.#post({ type: 'join', clientId });
  }

  leave(clientId: number): void {
    this.#acks.delete(clientId);
    if (!this.ended) this.#post({ type: 'leave', clientId });
  }

  close(reason: string): void {
    if (!this.ended) this.#post({ type: 'close', reason });
  }

  drain(): void {
    if (!this.ended) this.#post({ type: 'drain' });
  }

  /** Test-only (SWARMHOST_FAULT_INJECTION): make the lobby's tick throw, or its worker exit. */
  injectFault(kind: FaultKind): void {
    if (!this.ended) this.#post({ type: 'fault', kind });
  }

  /** Clients that have joined and not left, in join order. */
  joinedClients(): number[] {
    return [...this.#acks.keys()];
  }

  /**
   * After the lobby behind this handle was replaced (a restart), the old
   * inbox is gone: its credits come back. Inputs that were in it are lost
   * with the crash; clients see their acks stop short of them.
   */
  resetInbox(): void {
    this.#inFlight = 0;
  }

  /** Last input seq of this client the lobby has processed; -1 if none. */
  lastAck(clientId: number): number {
    return this.#acks.get(clientId) ?? -1;
  }

  onNotice(listener: (notice: LobbyNotice) => void): () => void {
    this.#noticeListeners.add(listener);
    return () => this.#noticeListeners.delete(listener);
  }

  /** Called by the host for every event the lobby emits, in order. */
  deliver(event: LobbyEvent): void {
    switch (event.type) {
      case 'frame': {
        this.#inFlight = Math.max(0, this.#inFlight - event.drained);
        const acks = event.acks;
        for (let i = 0; i < acks.length; i += 2) {
          if (this.#acks.has(acks[i])) this.#acks.set(acks[i], acks[i + 1]);
        }
        this.#tick = event.tick;
        if (!this.frames.closed) this.frames.send(event);
        return;
      }
      case 'status':
        if (this.status.closed) return;
        this.status.set(event.status);
        if (this.ended) {
          this.frames.close();
          this.status.close();
        }
        return;
      default:
        for (const listener of this.#noticeListeners) listener(event);
    }
  }
}
