/**
 * Where lobbies run. A host admits a lobby (its particles must fit the
 * particle budget of some thread) and turns its LobbySettings into a
 * supervised LobbyHandle; the server never learns more than that. The inline
 * host runs lobbies on the calling thread; the worker host (worker-pool.ts)
 * on a pool of worker threads.
 */
import type { Clock } from './clock.js';
import type { LobbyHandle } from './lobby-handle.js';
import type { LobbySettings } from './lobby-messages.js';
import { inlinePlacer } from './lobby-runner.js';
import { ParticleBudget } from './particle-budget.js';
import { type RestartPolicy, superviseLobby } from './supervisor.js';
import type { WorldKernel } from './world/wasm-kernel.js';

/** A new lobby runs, or is refused because no thread has room for its particles. */
export type SpawnResult =
  | { ok: true; handle: LobbyHandle }
  | { ok: false; reason: 'instance_full'; message: string };

/** How full one lobby thread is: what operators see in /status and the metrics. */
export interface ThreadCapacity {
  /** The worker's id, or `main` for the inline host. */
  worker: string;
  /** Particles reserved by the lobbies on it (admitted, grown by spawns, paused or restarting). */
  particles: number;
  /** Its particle budget (SWARMHOST_PARTICLE_BUDGET). */
  budget: number;
  lobbies: number;
}

export interface LobbyHost {
  spawn(settings: LobbySettings): SpawnResult;
  /** Budget use per thread that runs lobbies. */
  capacity(): ThreadCapacity[];
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
  /** Particles all lobbies on this thread may hold together; default: no limit. */
  particleBudget?: number;
  /** What steps the lobbies' worlds; default: the JS kernel. */
  kernel?: WorldKernel;
}

/** The refusal of a lobby that fits on no thread. */
export function instanceFull(particles: number, freest: number, budget: number): SpawnResult {
  return {
    ok: false,
    reason: 'instance_full',
    message: `instance full: a lobby of ${particles} particles fits on no worker (the most free on one is ${freest} of its budget of ${budget})`,
  };
}

export class InlineLobbyHost implements LobbyHost {
  #options: InlineHostOptions;
  #budget: ParticleBudget;

  constructor(options: InlineHostOptions) {
    this.#options = options;
    this.#budget = new ParticleBudget(options.particleBudget ?? Number.POSITIVE_INFINITY);
  }

  spawn(settings: LobbySettings): SpawnResult {
    const budget = this.#budget;
    if (!budget.tryReserve(settings.id, settings.particles))
      return instanceFull(settings.particles, budget.free, budget.limit);
    const { clock, cloneMessages, frameRing, restartPolicy, kernel } = this.#options;
    const seat = {
      place: inlinePlacer({ clock, cloneMessages, budget, kernel }),
      release: () => budget.release(settings.id),
    };
    const handle = superviseLobby(settings, seat, {
      frameRing,
      clock,
      policy: restartPolicy ?? NO_RESTARTS,
    });
    return { ok: true, handle };
  }

  capacity(): ThreadCapacity[] {
    const budget = this.#budget;
    return [
      { worker: 'main', particles: budget.used, budget: budget.limit, lobbies: budget.lobbies },
    ];
  }

  async shutdown(): Promise<void> {}
}
