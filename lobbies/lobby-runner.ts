/**
 * Where one incarnation of a lobby actor runs. A placer starts an actor for
 * some settings and returns its runner; the actor's events go to the sink in
 * order until the runner is stopped. Inline placement runs the actor on this
 * thread; the worker pool runs it in a worker thread. Supervision sits on
 * top and never knows which. A seat is the room a host admitted a lobby
 * into: it places every incarnation of that lobby and is released once,
 * when the lobby ends, so a restart never has to be admitted again.
 */
import { type Clock, realClock } from './clock.js';
import { Lobby } from './lobby.js';
import { describeError } from './lobby-machine.js';
import type { LobbyCommand, LobbyEvent, LobbySettings } from './lobby-messages.js';
import type { ParticleBudget } from './particle-budget.js';
import type { WorldKernel } from './world/wasm-kernel.js';

export interface LobbyRunner {
  post(command: LobbyCommand): void;
  /**
   * Hands back a frame's positions buffer that nothing refers to any more,
   * for the actor to reuse. Optional: an inline actor's frames are never
   * handed back (see Lobby's constructor).
   */
  recycle?(buffer: ArrayBuffer): void;
  /** Stops the actor; no event reaches the sink after this returns. */
  stop(): void;
}

export type LobbyPlacer = (
  settings: LobbySettings,
  sink: (event: LobbyEvent) => void,
) => LobbyRunner;

/** Room for one lobby on some thread, held from admission until the lobby ends, across restarts. */
export interface LobbySeat {
  /** Starts an incarnation of the lobby in this seat; throws when there is nowhere to run it. */
  place: LobbyPlacer;
  /** The lobby has ended: give its room back. Called once. */
  release(): void;
}

export interface InlinePlacerOptions {
  clock?: Clock;
  /** Pass every message through structuredClone, as a thread boundary would. */
  cloneMessages?: boolean;
  /** The calling thread's particle budget, shared by the lobbies placed here. */
  budget?: ParticleBudget;
  /** What steps the worlds of the lobbies placed here; default: the JS kernel. */
  kernel?: WorldKernel;
}

/** Runs each lobby on the calling thread (SWARMHOST_WORKERS=0, and tests). */
export function inlinePlacer(options: InlinePlacerOptions = {}): LobbyPlacer {
  const clock = options.clock ?? realClock;
  const pass = <T>(message: T): T => (options.cloneMessages ? structuredClone(message) : message);
  return (settings, sink) => {
    let stopped = false;
    const emit = (event: LobbyEvent) => {
      if (!stopped) sink(pass(event));
    };
    const lobby = new Lobby(settings, emit, clock, undefined, options.budget, options.kernel);
    lobby.start();
    return {
      post(command) {
        if (stopped) return;
        try {
          lobby.receive(pass(command));
        } catch (error) {
          // A lobby's failure is its own event, never thrown into the
          // client session that happened to post the command.
          emit({ type: 'failed', error: describeError(error) });
        }
      },
      stop() {
        stopped = true;
        lobby.stop();
      },
    };
  };
}
