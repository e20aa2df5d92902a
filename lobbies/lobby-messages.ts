/**
 * The only things that cross between a lobby and the server: plain,
 * structured-clone-able messages (numbers, strings, arrays, typed arrays).
 * No callbacks, no shared objects, so a lobby can live in another thread.
 */
import type { LobbyInput, LobbyStatus } from '../protocol/messages.js';
import type { ErrorCodeValue } from '../protocol/error-codes.js';

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
}

// ── server → lobby ───────────────────────────────────────────────────────
export type LobbyCommand =
  | { type: 'join'; clientId: number }
  | { type: 'leave'; clientId: number }
  | { type: 'input'; clientId: number; input: LobbyInput }
  | { type: 'close'; reason: string }
  | { type: 'drain' };

// ── lobby → server ───────────────────────────────────────────────────────
export interface TickStats {
  durationMs: number;
  lateMs: number;
}

export interface FrameEvent {
  type: 'frame';
  tick: number;
  count: number;
  /** Quantized positions, interleaved x,y, length 2*count. Owned by the receiver. */
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
  | { type: 'failed'; error: string };
