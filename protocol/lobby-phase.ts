/**
 * A lobby's lifecycle phases and, in one table next to them, what each
 * phase allows: the server asks the table instead of comparing phases.
 *
 * The two questions that once had different answers, decided here:
 * - a lobby that is `restarting` (crashed, coming back in a moment from its
 *   newest checkpoint or its seed) **accepts joins**: the player is welcomed
 *   and gets its first frame as soon as the lobby is back, instead of a
 *   refusal for a hiccup;
 * - but it **refuses inputs** (`lobby_closed`): there is no world to apply
 *   them to, and the restarted world starts without them, so accepting them
 *   would break "nothing accepted is dropped". The client sends its force
 *   again after the restart.
 *
 * Hand-over (fleet mode: the lobby moves to another instance, or a draining
 * server passes it on): `handingOver` is frozen (no ticks, no frames, no
 * inputs, no joins) while its checkpoint travels; then it ends as `moved`
 * (clients reconnect now, through the load balancer, and find it on its new
 * owner) or `drained` (this server is going away), or thaws back to running
 * if the hand-over was abandoned.
 */
import { CloseCode } from './close-codes.js';

export const LOBBY_PHASES = [
  'starting',
  'running',
  /** No clients: the world is paused until someone joins. */
  'idle',
  /** Crashed; the supervisor restarts it after a backoff (from its newest checkpoint, else its seed). */
  'restarting',
  'closing',
  'draining',
  'closed',
  'failed',
  /** Frozen for a hand-over: its checkpoint is on its way to another instance. */
  'handingOver',
  /** Handed over: it runs on another instance now. */
  'moved',
  /** Handed over because this server is draining. */
  'drained',
] as const;

export type LobbyPhase = (typeof LOBBY_PHASES)[number];

export interface LobbyPhaseRule {
  /** A new client may join. */
  acceptsJoins: boolean;
  /** Inputs are taken into the inbox (else refused with `lobby_closed`). */
  acceptsInputs: boolean;
  /** Nothing more will happen: the lobby is gone. */
  ended: boolean;
  /** How the server closes a client's socket when its lobby reaches this phase. */
  closesClients?: { code: number; reason: string };
}

export const LOBBY_PHASE_RULES: Readonly<Record<LobbyPhase, Readonly<LobbyPhaseRule>>> = {
  starting: { acceptsJoins: true, acceptsInputs: true, ended: false },
  running: { acceptsJoins: true, acceptsInputs: true, ended: false },
  idle: { acceptsJoins: true, acceptsInputs: true, ended: false },
  restarting: { acceptsJoins: true, acceptsInputs: false, ended: false },
  closing: {
    acceptsJoins: false,
    acceptsInputs: false,
    ended: false,
    closesClients: { code: CloseCode.lobbyClosed, reason: 'lobby closed' },
  },
  // Its players may keep playing until they have reconnected elsewhere.
  draining: {
    acceptsJoins: false,
    acceptsInputs: true,
    ended: false,
    closesClients: { code: CloseCode.draining, reason: 'server is draining: reconnect' },
  },
  closed: {
    acceptsJoins: false,
    acceptsInputs: false,
    ended: true,
    closesClients: { code: CloseCode.lobbyClosed, reason: 'lobby closed' },
  },
  failed: {
    acceptsJoins: false,
    acceptsInputs: false,
    ended: true,
    closesClients: { code: CloseCode.internalError, reason: 'lobby failed' },
  },
  // Frozen: an input now would miss the checkpoint, and a join would be
  // closed a moment later. Its clients stay until it ends (or thaws).
  handingOver: { acceptsJoins: false, acceptsInputs: false, ended: false },
  moved: {
    acceptsJoins: false,
    acceptsInputs: false,
    ended: true,
    closesClients: {
      code: CloseCode.moved,
      reason: 'lobby moved to another instance: reconnect now',
    },
  },
  drained: {
    acceptsJoins: false,
    acceptsInputs: false,
    ended: true,
    closesClients: { code: CloseCode.draining, reason: 'server is draining: reconnect' },
  },
};
