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
 *   back when a frame reports how many inputs the lobby drained;
 * - checkpoint requests in flight, and the newest checkpoint taken (which
 *   the supervisor restarts a crashed lobby from). `handOver` refuses
 *   inputs from the moment it is called, so none is accepted that the
 *   checkpoint would miss. A request the lobby cannot answer (it crashed,
 *   failed or ended first) is rejected, never left hanging.
 */
import { LOBBY_PHASE_RULES, type LobbyInput, type LobbyStatus } from '../protocol/index.js';
import { Broadcast } from './channels/broadcast.js';
import type { SendResult } from './channels/mpsc.js';
import { Watch } from './channels/watch.js';
import type {
  FaultKind,
  FrameEvent,
  HandOverEnd,
  LobbyCheckpoint,
  LobbyCommand,
  LobbyEvent,
  LobbySettings,
} from './lobby-messages.js';

/** What listeners hear: every event but frames, status and checkpoint answers (the handle's own). */
export type LobbyNotice = Exclude<
  LobbyEvent,
  FrameEvent | { type: 'status' } | { type: 'checkpoint' } | { type: 'checkpointFailed' }
>;

interface CheckpointRequest {
  handOver: boolean;
  resolve: (checkpoint: LobbyCheckpoint) => void;
  reject: (error: Error) => void;
}

export class LobbyHandle {
  readonly id: string;
  readonly settings: LobbySettings;
  readonly frames: Broadcast<FrameEvent>;
  readonly status: Watch<LobbyStatus>;
  #post: (command: LobbyCommand) => void;
  #inFlight = 0;
  #acks = new Map<number, number>();
  #noticeListeners = new Set<(notice: LobbyNotice) => void>();
  #tick: number;
  #requests = new Map<number, CheckpointRequest>();
  #nextRequestId = 1;
  #lastCheckpoint: LobbyCheckpoint | undefined;
  /** From `handOver()` until the hand-over is abandoned or the lobby restarts: inputs are refused. */
  #handingOver = false;
  /** The hand-over's checkpoint is out: the lobby is frozen on it until finished or resumed. */
  #frozen = false;

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
    // A resumed lobby goes on from its checkpoint's tick (see Lobby).
    this.#tick = settings.startTick ?? settings.resume?.tick ?? 0;
    this.frames = new Broadcast<FrameEvent>(frameRing, { onEvict: onFrameEvicted });
    this.status = new Watch<LobbyStatus>({
      id: settings.id,
      phase: 'starting',
      tick: this.#tick,
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
    if (this.#handingOver) return 'closed';
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

  /** The newest checkpoint the lobby has answered with (kept after it ends). */
  get lastCheckpoint(): LobbyCheckpoint | undefined {
    return this.#lastCheckpoint;
  }

  /**
   * The lobby's state between two ticks; it carries on. Rejects if the
   * lobby ends, fails, crashes or is restarting before it can answer.
   */
  checkpoint(): Promise<LobbyCheckpoint> {
    return this.#request((requestId) => ({ type: 'checkpoint', requestId }));
  }

  /**
   * Freezes the lobby (no more ticks, frames or inputs: trySend answers
   * 'closed' from this call on) and resolves with its checkpoint. Then either
   * `finishHandOver` (it runs elsewhere now) or `resumeAfterHandOver`.
   * Rejects as `checkpoint` does, and if the lobby is closing.
   */
  handOver(): Promise<LobbyCheckpoint> {
    // Before the command goes: an inline lobby answers within the post.
    this.#handingOver = !this.ended;
    return this.#request((requestId) => ({ type: 'handOver', requestId }));
  }

  /**
   * A hand-over has answered with its checkpoint and is neither finished nor
   * abandoned: that checkpoint is the lobby's state now (the supervisor
   * does not restart a lobby that crashes in this state, see supervisor.ts).
   */
  get frozen(): boolean {
    return this.#frozen;
  }

  /** Ends a frozen lobby: its clients are closed with 4007 (moved) or 4005 (drained). */
  finishHandOver(as: HandOverEnd): void {
    if (!this.ended) this.#post({ type: 'finishHandOver', as });
  }

  /** The hand-over was abandoned: the lobby thaws and ticks on, and takes inputs again. */
  resumeAfterHandOver(): void {
    this.#handingOver = false;
    this.#frozen = false;
    if (!this.ended) this.#post({ type: 'resumeAfterHandOver' });
  }

  #request(command: (requestId: number) => LobbyCommand): Promise<LobbyCheckpoint> {
    if (this.ended)
      return Promise.reject(
        new Error(`lobby ${this.id} has ended (${this.status.get().phase}): no checkpoint`),
      );
    const requestId = this.#nextRequestId++;
    const message = command(requestId);
    const answer = new Promise<LobbyCheckpoint>((resolve, reject) =>
      this.#requests.set(requestId, { handOver: message.type === 'handOver', resolve, reject }),
    );
    this.#post(message);
    return answer;
  }

  /** Every request in flight fails: its lobby will never answer it. */
  #rejectRequests(why: string): void {
    if (this.#requests.size === 0) return;
    const requests = [...this.#requests.values()];
    this.#requests.clear();
    for (const request of requests)
      request.reject(new Error(`lobby ${this.id} ${why} before answering a checkpoint request`));
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
          this.#rejectRequests(`ended (${event.status.phase})`);
          this.frames.close();
          this.status.close();
        }
        return;
      case 'checkpoint': {
        const request = this.#requests.get(event.requestId);
        this.#requests.delete(event.requestId);
        this.#lastCheckpoint = event.checkpoint;
        if (request?.handOver) this.#frozen = true;
        request?.resolve(event.checkpoint);
        return;
      }
      case 'checkpointFailed': {
        const request = this.#requests.get(event.requestId);
        this.#requests.delete(event.requestId);
        // A hand-over that never froze the lobby leaves it taking inputs.
        if (request?.handOver) this.#handingOver = false;
        request?.reject(new Error(event.error));
        return;
      }
      case 'crashed':
      case 'failed':
        // The incarnation that was asked is gone. A restarted one is not
        // frozen, unless its hand-over's checkpoint was out already (then
        // it is held, not restarted: inputs stay refused).
        this.#rejectRequests(
          event.type === 'crashed' ? `crashed (${event.error})` : `failed (${event.error})`,
        );
        this.#handingOver = this.#frozen;
        for (const listener of this.#noticeListeners) listener(event);
        return;
      default:
        for (const listener of this.#noticeListeners) listener(event);
    }
  }
}
