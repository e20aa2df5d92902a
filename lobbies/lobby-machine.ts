/**
 * The lobby lifecycle as an xstate v5 machine:
 *
 *   starting ─READY─▶ live ─CLOSE─▶ closing ─(no clients | grace)─▶ closed
 *                     live = active{running ⇄ idle} ─DRAIN─▶ draining ─▶ closed
 *                     live ─TICK_FAILED─▶ failed
 *                     idle ─(idle timeout)─▶ closing
 *                     live ─HAND_OVER─▶ handingOver ─FINISH{as}─▶ moved | drained
 *                                       handingOver ─RESUME─▶ live.active
 *                                       handingOver ─CLOSE─▶ closing
 *
 * `handingOver` is frozen for a hand-over (fleet mode): no tick loop, so the
 * checkpoint taken on entering it stays the truth until the lobby ends as
 * `moved` or `drained`, or thaws (RESUME) when the hand-over is abandoned.
 * It waits on no timer: the owner of the hand-over decides how it ends.
 *
 * The tick loop is a callback actor invoked while `running` (and while
 * `draining`, until the last client has gone): xstate starts and stops it
 * with the state, but ticks are plain callbacks, not events. An `idle` lobby
 * (no clients) is paused: no ticks, no frames, no CPU, until a client joins;
 * the loop then starts afresh and the tick count carries on where it
 * stopped. Each state carries its phase as a tag, so the status is read off
 * the snapshot.
 */
import { assign, fromCallback, setup, type EventObject } from 'xstate';
import type { Clock } from './clock.js';
import { TickLoop } from './tick-loop.js';
import type { LobbyPhase } from '../protocol/index.js';

export interface LobbyMachineInput {
  idleTimeoutMs: number;
  closeGraceMs: number;
  tickRate: number;
  maxCatchUpSteps: number;
  clock: Clock;
  /** One fixed step of the world; throwing fails the lobby. */
  tick: (lateMs: number) => void;
  onTicksDropped: (steps: number) => void;
}

export type LobbyMachineEvent =
  | { type: 'READY' }
  | { type: 'CLIENTS'; clients: number }
  | { type: 'CLOSE'; reason: string }
  | { type: 'DRAIN' }
  | { type: 'TICK_FAILED'; error: string }
  | { type: 'HAND_OVER' }
  | { type: 'RESUME' }
  | { type: 'FINISH'; as: 'moved' | 'drained' };

interface LobbyMachineContext extends LobbyMachineInput {
  clients: number;
  closeReason: string;
  error: string;
}

type TickLoopInput = Pick<
  LobbyMachineInput,
  'clock' | 'tickRate' | 'maxCatchUpSteps' | 'tick' | 'onTicksDropped'
>;

/** Runs the fixed-step loop while invoked; a throwing tick is reported, never rethrown. */
const tickLoopActor = fromCallback<EventObject, TickLoopInput>(({ input, sendBack }) => {
  const loop = new TickLoop({
    clock: input.clock,
    tickRate: input.tickRate,
    maxCatchUpSteps: input.maxCatchUpSteps,
    onDropped: input.onTicksDropped,
    onTick: (lateMs) => {
      try {
        input.tick(lateMs);
      } catch (error) {
        loop.stop();
        sendBack({ type: 'TICK_FAILED', error: describeError(error) });
      }
    },
  });
  loop.start();
  return () => loop.stop();
});

export const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

const tickLoopInput = ({ context }: { context: LobbyMachineContext }): TickLoopInput => ({
  clock: context.clock,
  tickRate: context.tickRate,
  maxCatchUpSteps: context.maxCatchUpSteps,
  tick: context.tick,
  onTicksDropped: context.onTicksDropped,
});

export const lobbyMachine = setup({
  types: {
    context: {} as LobbyMachineContext,
    events: {} as LobbyMachineEvent,
    input: {} as LobbyMachineInput,
    tags: {} as LobbyPhase | 'failed',
  },
  actors: { tickLoop: tickLoopActor },
  guards: {
    hasClients: ({ context }) => context.clients > 0,
    noClients: ({ context }) => context.clients === 0,
    finishesMoved: ({ event }) => event.type === 'FINISH' && event.as === 'moved',
  },
  delays: {
    idleTimeout: ({ context }) => context.idleTimeoutMs,
    closeGrace: ({ context }) => context.closeGraceMs,
  },
}).createMachine({
  id: 'lobby',
  context: ({ input }) => ({ ...input, clients: 0, closeReason: '', error: '' }),
  initial: 'starting',
  on: {
    CLIENTS: { actions: assign({ clients: ({ event }) => event.clients }) },
  },
  states: {
    starting: {
      tags: 'starting',
      on: { READY: 'live' },
    },
    live: {
      on: {
        CLOSE: { target: 'closing', actions: assign({ closeReason: ({ event }) => event.reason }) },
        TICK_FAILED: { target: 'failed', actions: assign({ error: ({ event }) => event.error }) },
        HAND_OVER: 'handingOver',
      },
      initial: 'active',
      states: {
        active: {
          on: { DRAIN: 'draining' },
          initial: 'choose',
          states: {
            choose: {
              always: [{ guard: 'hasClients', target: 'running' }, { target: 'idle' }],
            },
            running: {
              tags: 'running',
              invoke: { src: 'tickLoop', input: tickLoopInput },
              always: { guard: 'noClients', target: 'idle' },
            },
            // Paused: nobody would see a frame, so none is made.
            idle: {
              tags: 'idle',
              always: { guard: 'hasClients', target: 'running' },
              after: {
                idleTimeout: {
                  target: '#lobby.closing',
                  actions: assign({ closeReason: 'idle timeout' }),
                },
              },
            },
          },
        },
        draining: {
          tags: 'draining',
          invoke: { src: 'tickLoop', input: tickLoopInput },
          always: { guard: 'noClients', target: '#lobby.closed' },
          after: { closeGrace: '#lobby.closed' },
        },
      },
    },
    closing: {
      tags: 'closing',
      always: { guard: 'noClients', target: 'closed' },
      after: { closeGrace: 'closed' },
    },
    // Frozen: no tick loop, no timers; it ends or thaws when told.
    handingOver: {
      tags: 'handingOver',
      on: {
        RESUME: '#lobby.live.active',
        FINISH: [{ guard: 'finishesMoved', target: 'moved' }, { target: 'drained' }],
        CLOSE: { target: 'closing', actions: assign({ closeReason: ({ event }) => event.reason }) },
      },
    },
    closed: { tags: 'closed', type: 'final' },
    failed: { tags: 'failed', type: 'final' },
    moved: { tags: 'moved', type: 'final' },
    drained: { tags: 'drained', type: 'final' },
  },
});
