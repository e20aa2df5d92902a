/**
 * Sends the player's inputs at a capped rate. The pointer can move hundreds
 * of times a second; the server allows about 120 messages a second and only
 * the latest force matters, so we keep the newest wanted state and send it at
 * most every `minIntervalMs` (30 a second by default). Nothing the player
 * ends with is lost: the last change is always sent, release ('none')
 * included. Bursts (spawns) share the same budget and go first.
 *
 * Sequence numbers come from the transport (LobbyClient counts them); this
 * records the newest one sent so the HUD can show it against the ack.
 */
import type { InputMode } from '../../protocol/index.js';

export interface InputTransport {
  /** Sends an input; returns its seq, or undefined when not connected. */
  sendInput(x: number, y: number, mode: InputMode): number | undefined;
  spawn(x: number, y: number, count: number): number | undefined;
}

export interface InputSenderOptions {
  /** Least time between two messages, ms. */
  minIntervalMs?: number;
  now?: () => number;
  schedule?: (callback: () => void, delayMs: number) => void;
}

/** 30 inputs a second: smooth to steer with, a quarter of the server's rate limit. */
export const INPUT_INTERVAL_MS = 1000 / 30;

interface Force {
  mode: InputMode;
  x: number;
  y: number;
}

export class InputSender {
  readonly #transport: InputTransport;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #schedule: (callback: () => void, delayMs: number) => void;
  #wanted: Force = { mode: 'none', x: 0, y: 0 };
  /** What the server was last told (absent: nothing this connection). */
  #told: Force | undefined;
  #forceDirty = false;
  #spawn: { x: number; y: number; count: number } | undefined;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #timerPending = false;
  /** Seq of the newest message sent on this connection; -1 before any. */
  lastSeq = -1;
  /** Seq of the newest force (input) message, to match inbox_full errors. */
  #lastForceSeq = -1;
  sent = 0;

  constructor(transport: InputTransport, options: InputSenderOptions = {}) {
    this.#transport = transport;
    this.#interval = options.minIntervalMs ?? INPUT_INTERVAL_MS;
    this.#now = options.now ?? (() => performance.now());
    this.#schedule = options.schedule ?? ((callback, delayMs) => setTimeout(callback, delayMs));
  }

  /** The force the player wants now (world coordinates already wrapped). */
  setForce(mode: InputMode, x: number, y: number): void {
    this.#wanted = { mode, x, y };
    const told = this.#told;
    // Releasing twice, or a force at the same point, says nothing new.
    const same =
      told !== undefined &&
      told.mode === mode &&
      (mode === 'none' || (told.x === x && told.y === y));
    this.#forceDirty = !same && !(told === undefined && mode === 'none');
    this.#pump();
  }

  /** A burst of `count` particles at (x, y); a second one before the first is sent replaces it. */
  burst(x: number, y: number, count: number): void {
    this.#spawn = { x, y, count };
    this.#pump();
  }

  /**
   * A new connection: seqs restart and the server knows nothing of us, so
   * the force being held (if any) is sent again.
   */
  reconnected(): void {
    this.#told = undefined;
    this.lastSeq = -1;
    this.#lastForceSeq = -1;
    this.setForce(this.#wanted.mode, this.#wanted.x, this.#wanted.y);
  }

  /** The server refused input `seq` for now (inbox full, rate limit): send the newest force again. */
  refused(seq: number): void {
    if (seq === this.#lastForceSeq) {
      this.#told = undefined;
      this.setForce(this.#wanted.mode, this.#wanted.x, this.#wanted.y);
    }
  }

  #pump(): void {
    if (!this.#forceDirty && !this.#spawn) return;
    const wait = this.#lastSentAt + this.#interval - this.#now();
    if (wait <= 0) {
      this.#sendOne();
      if (!this.#forceDirty && !this.#spawn) return;
    }
    if (this.#timerPending) return;
    this.#timerPending = true;
    this.#schedule(
      () => {
        this.#timerPending = false;
        this.#pump();
      },
      Math.max(1, wait > 0 ? wait : this.#interval),
    );
  }

  #sendOne(): void {
    if (this.#spawn) {
      const { x, y, count } = this.#spawn;
      this.#spawn = undefined;
      // Not connected: a burst long after the key press would surprise, so it is dropped.
      this.#record(this.#transport.spawn(x, y, count));
      return;
    }
    const force = this.#wanted;
    const seq = this.#transport.sendInput(force.x, force.y, force.mode);
    // Not connected: nothing to retry on a timer; reconnected() sends the wanted force.
    if (seq === undefined) {
      this.#forceDirty = false;
      return;
    }
    this.#told = force;
    this.#forceDirty = false;
    this.#lastForceSeq = seq;
    this.#record(seq);
  }

  #record(seq: number | undefined): void {
    if (seq === undefined) return;
    this.#lastSentAt = this.#now();
    this.lastSeq = seq;
    this.sent++;
  }
}
