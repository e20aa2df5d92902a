/**
 * The only things that cross between a lobby and the server: plain,
 * structured-clone-able messages (numbers, strings, arrays, typed arrays).
 * No callbacks, no shared objects, so a lobby can live in another thread.
 */
import type { ErrorCodeValue, LobbyInput, LobbyStatus } from '../protocol/index.js';
import type { WorldSnapshot } from './world/world.js';

/**
 * A lobby's state between two ticks: enough for another actor (here after a
 * crash, or on another instance) to go on where this one stopped, its world
 * bit-identical. Plain structured-clone-able data; whoever stores it encodes it.
 * Client forces are in `world.forces` but a resume clears them (client ids
 * of one incarnation mean nothing to the next); inputs waiting in the inbox
 * are left out for the same reason, except spawns: an accepted spawn is
 * never lost, it moves with the lobby.
 */
export interface LobbyCheckpoint {
  id: string;
  seed: number;
  /** The last tick the world has stepped (its last frame's tick). */
  tick: number;
  epoch: number;
  world: WorldSnapshot;
  /** Spawns accepted into the inbox but not yet applied: applied on the first tick after resume. */
  pendingSpawns: Array<{ x: number; y: number; count: number }>;
}

/** How a handed-over lobby ends: it runs elsewhere now, or this server is draining. */
export type HandOverEnd = 'moved' | 'drained';

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
  /**
   * Threads its world is split over (default 1), chosen by the host at
   * admission (lobby-partitions.ts): the lobby's thread charges its budget
   * only its share, 1/partitions of the particles.
   */
  partitions?: number;
  /** Neighbour steerings a step aims to stay within, 0 for none (boids.ts steerBudget); default: the world's. */
  steerBudget?: number;
  /** How long closing/draining waits for clients to leave before closing anyway. */
  closeGraceMs: number;
  /** Tick to continue from: 0 for a new lobby, the last tick for a restart. */
  startTick?: number;
  /** Incarnation of this lobby: 0, then +1 per restart (frames of one epoch never delta against another). */
  epoch?: number;
  /**
   * Start from this checkpoint instead of the seed: its world (forces
   * cleared), its tick (unless `startTick` says otherwise), its epoch
   * (unless `epoch` does), its pending spawns applied on the first tick.
   * `particles` must equal its particle count (what the host admitted);
   * `worldSize` its world's size; `maxParticles` is this lobby's own cap.
   */
  resume?: LobbyCheckpoint;
}

/**
 * Test-only faults (SWARMHOST_FAULT_INJECTION): the lobby's next tick
 * throws (`throw`); or the worker it runs on dies, as a crash would kill it:
 * `process.exit` (`exit`), an uncaught error (`uncaught`), running out of
 * heap (`oom`); or one of the threads a split world steps on dies
 * (`partition`; a throwing tick for a lobby that is not split). On the
 * inline host the worker kinds are a throwing tick.
 */
export const FAULT_KINDS = ['throw', 'exit', 'uncaught', 'oom', 'partition'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

// ── server → lobby ───────────────────────────────────────────────────────
export type LobbyCommand =
  | { type: 'join'; clientId: number }
  | { type: 'leave'; clientId: number }
  | { type: 'input'; clientId: number; input: LobbyInput }
  | { type: 'close'; reason: string }
  | { type: 'drain' }
  | { type: 'fault'; kind: FaultKind }
  /** Snapshot between two ticks, answered by a `checkpoint` event; the lobby carries on. */
  | { type: 'checkpoint'; requestId: number }
  /** Freeze (no more ticks, frames or inputs), then snapshot: answered by a `checkpoint` event. */
  | { type: 'handOver'; requestId: number }
  /** The checkpoint is safe elsewhere: end the frozen lobby, closing its clients accordingly. */
  | { type: 'finishHandOver'; as: HandOverEnd }
  /** The hand-over was abandoned: thaw and tick on. */
  | { type: 'resumeAfterHandOver' };

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
  /** The answer to a `checkpoint` or `handOver` command (its typed arrays are the receiver's). */
  | { type: 'checkpoint'; requestId: number; checkpoint: LobbyCheckpoint }
  /** A `checkpoint` or `handOver` that could not be answered (the lobby is closing, or restarting). */
  | { type: 'checkpointFailed'; requestId: number; error: string }
  // From the supervisor, not the actor: a crash, and whether a restart follows
  // (not for a lobby frozen for a hand-over: it is held, see supervisor.ts).
  | { type: 'crashed'; error: string; restarting: boolean }
  /** Restarted after a crash: from the newest checkpoint (or `settings.resume`), else from the seed. */
  | { type: 'restarted'; epoch: number; from: 'checkpoint' | 'seed' };
