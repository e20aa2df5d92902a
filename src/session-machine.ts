/**
 * A client connection's lifecycle (xstate v5), the one place its state
 * lives: the phase, and the lobby the hello joined (context):
 *
 *   awaitingHello ─HELLO─▶ joined ─CLOSE─▶ closing ─CLOSED─▶ closed
 *        │ │ └─PLACING─▶ placing ─HELLO─▶ joined
 *        │ └─CLOSE─▶ closing        └─(close timeout)─▶ closeTimedOut
 *        └─(hello timeout)─▶ helloTimedOut ─CLOSE─▶ closing
 *   (CLOSED, the socket's own close event, ends every phase)
 *
 * `placing` is a hello waiting for its lobby to be placed here (fleet
 * mode: claimed, or handed over by another instance); the fleet bounds
 * that wait, so the hello timeout no longer applies.
 *
 * Only phase changes are events; frames and inputs never go through the
 * machine. Both timeouts live here so leaving a state cancels them, whatever
 * the reason; the session answers `helloTimedOut` by closing with 4001 and
 * `closeTimedOut` (a peer that ignores our close frame) by cutting the TCP
 * connection.
 */
import { assign, setup } from 'xstate';
import type { JoinedLobby } from './lobby-directory.js';

export interface SessionMachineInput {
  helloTimeoutMs: number;
  closeTimeoutMs: number;
}

interface SessionContext extends SessionMachineInput {
  /** The lobby joined by the hello; kept after the close, for leaving it. */
  lobby?: JoinedLobby;
}

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    input: {} as SessionMachineInput,
    events: {} as
      | { type: 'HELLO'; lobby: JoinedLobby }
      | { type: 'PLACING' }
      | { type: 'CLOSE' }
      | { type: 'CLOSED' },
  },
  delays: {
    helloTimeout: ({ context }) => context.helloTimeoutMs,
    closeTimeout: ({ context }) => context.closeTimeoutMs,
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({ ...input }),
  initial: 'awaitingHello',
  on: { CLOSED: '.closed' },
  states: {
    awaitingHello: {
      on: {
        HELLO: { target: 'joined', actions: assign({ lobby: ({ event }) => event.lobby }) },
        PLACING: 'placing',
        CLOSE: 'closing',
      },
      after: { helloTimeout: 'helloTimedOut' },
    },
    placing: {
      on: {
        HELLO: { target: 'joined', actions: assign({ lobby: ({ event }) => event.lobby }) },
        CLOSE: 'closing',
      },
    },
    helloTimedOut: { on: { CLOSE: 'closing' } },
    joined: { on: { CLOSE: 'closing' } },
    closing: { after: { closeTimeout: 'closeTimedOut' } },
    closeTimedOut: {},
    closed: { type: 'final' },
  },
});

export type SessionPhase =
  | 'awaitingHello'
  | 'placing'
  | 'helloTimedOut'
  | 'joined'
  | 'closing'
  | 'closeTimedOut'
  | 'closed';

/**
 * What each phase allows, in one table: the session asks it rather than
 * comparing phases. `readsMessages`: what the peer sends is acted on;
 * `sendsFrames`: the net task sends to it; `mayClose`: the server may
 * still start the closing handshake.
 */
export const SESSION_PHASE_RULES = {
  awaitingHello: { readsMessages: true, sendsFrames: false, mayClose: true },
  placing: { readsMessages: true, sendsFrames: false, mayClose: true },
  helloTimedOut: { readsMessages: false, sendsFrames: false, mayClose: true },
  joined: { readsMessages: true, sendsFrames: true, mayClose: true },
  closing: { readsMessages: false, sendsFrames: false, mayClose: false },
  closeTimedOut: { readsMessages: false, sendsFrames: false, mayClose: false },
  closed: { readsMessages: false, sendsFrames: false, mayClose: false },
} as const satisfies Record<
  SessionPhase,
  { readsMessages: boolean; sendsFrames: boolean; mayClose: boolean }
>;
