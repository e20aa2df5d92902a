/**
 * Where lobbies run. A host turns LobbySettings into a supervised
 * LobbyHandle; the server never learns more than that. The inline host runs
 * lobbies on the calling thread; the worker host (worker-pool.ts) on a pool
 * of worker threads.
 */
import type { Clock } from './clock.js';
import type { LobbyHandle } from './lobby-handle.js';
import type { LobbySettings } from './lobby-messages.js';
import { inlinePlacer } from './lobby-runner.js';
import { type RestartPolicy, superviseLobby } from './supervisor.js';

export interface LobbyHost {
  spawn(settings: LobbySettings): LobbyHandle;
  /** Stops whatever the host runs lobbies on (worker threads); resolves when they are gone. */
  shutdown(): Promise<void>;
}

/** Never restart: what tests and callers get unless they ask for supervision. */
export const NO_RESTARTS: RestartPolicy = { maxRestarts: 0, windowMs: 1000, backoffMs: 0 };

export interface InlineHostOptions {
  clock?: Clock;
  /** Frames kept per lobby for delta bases. */
  frameRing: number;
  /** Pass every message through structuredClone, as a thread boundary would. */
  cloneMessages?: boolean;
  restartPolicy?: RestartPolicy;
}

export class InlineLobbyHost implements LobbyHost {
  #options: InlineHostOptions;

  constructor(options: InlineHostOptions) {
    this.#options = options;
  }

  spawn(settings: LobbySettings): LobbyHandle {
    const { clock, cloneMessages, frameRing, restartPolicy } = this.#options;
    return superviseLobby(settings, inlinePlacer({ clock, cloneMessages }), {
      frameRing,
      clock,
      policy: restartPolicy ?? NO_RESTARTS,
    });
  }

  async shutdown(): Promise<void> {}
}
