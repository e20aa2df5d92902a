/**
 * The only things that cross between a lobby and the server: plain,
 * structured-clone-able messages (numbers, strings, arrays, typed arrays).
 * No callbacks, no shared objects, so a lobby can live in another thread.
 */
import type { ErrorCodeValue, LobbyInput, LobbyStatus } from '../protocol/index.js';

/** Everything needed to build a lobby; validated by the server's config. */
export interface LobbySettings {
  id: string;
  seed: number;
  particles: number;
  maxParticles: number;
  worldSize: number;
  tickRate: number;
  maxCatchUpSteps: number;
  idleTimeoutMs: number;
  inboxCapacity: number;
  /** How long closing/draining waits for clients to leave before closing anyway. */
  closeGraceMs: number;
  /** Tick to continue from: 0 for a new lobby, the last tick for a restart. */
  startTick?: number;
  /** Incarnation of this lobby: 0, then +1 per restart (frames of one epoch never delta against another). */
  epoch?: number;
}

/**
 * Test-only faults (SWARMHOST_FAULT_INJECTION): the lobby's next tick
 * throws (`throw`); or the worker it runs on dies, as a crash would kill it:
 * `process.exit` (`exit`), an uncaught error (`uncaught`), running out of
 * heap (`oom`). On the inline host every kind is a throwing tick.
 */
export const FAULT_KINDS = ['throw', 'exit', 'uncaught', 'oom'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

// ── server → lobby ───────────────────────────────────────────────────────
export type LobbyCommand =
  | { type: 'join'; clientId: number }
  | { type: 'leave'; clientId: number }
  | { type: 'input'; clientId: number; input: LobbyInput }
  | { type: 'close'; reason: string }
  | { type: 'drain' }
  | { type: 'fault'; kind: FaultKind };

// ── lobby → server ───────────────────────────────────────────────────────
export interface TickStats {
  durationMs: number;
  lateMs: number;
  /** Positions buffers the lobby has allocated so far: flat once its frames' buffers come back. */
  buffersAllocated: number;
}

export interface FrameEvent {
  type: 'frame';
  tick: number;
  epoch: number;
  count: number;
  /**
   * Quantized positions, interleaved x,y, length 2*count. The receiver owns
   * it until the frame leaves the handle's ring; a worker host then sends
   * the buffer back to be reused (it is detached here afterwards).
   */
  positions: Uint16Array;
  /** Flat [clientId, seq, clientId, seq, ...]: last seq applied this tick per client. */
  acks: number[];
  /** Inputs taken from the inbox this tick: the handle's send credits. */
  drained: number;
  stats: TickStats;
}

export type LobbyEvent =
  | FrameEvent
  | { type: 'status'; status: LobbyStatus }
  | { type: 'rejected'; clientId: number; seq: number; code: ErrorCodeValue; message: string }
  | { type: 'ticksDropped'; steps: number }
  | { type: 'failed'; error: string }
  // From the supervisor, not the actor: a crash, and whether a restart follows.
  | { type: 'crashed'; error: string; restarting: boolean }
  | { type: 'restarted'; epoch: number };
