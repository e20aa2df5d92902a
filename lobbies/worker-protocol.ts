/**
 * Messages between the main thread and a lobby worker. Commands travel in
 * batches (one postMessage per event-loop turn, however many inputs arrived),
 * together with the positions buffers of frames that left their lobby's
 * ring, transferred back for reuse; frames travel one per tick with their
 * positions buffer transferred, not copied, and checkpoints with their
 * particle arrays transferred. A spawn's settings carry the checkpoint to
 * resume from, if any, copied (the supervisor keeps its own for restarts).
 */
import type { LobbyCommand, LobbyEvent, LobbySettings } from './lobby-messages.js';
import type { PriorityRequest, ThreadPriority } from './thread-priority.js';
import type { WorldKernel } from './world/wasm-kernel.js';

/** What a worker thread is started with. */
export interface WorkerBootData {
  /** The scheduling priority the worker sets on its own thread. */
  priority: PriorityRequest;
  /** Particles all the lobbies on this worker may hold together. */
  particleBudget: number;
  /**
   * What steps the worlds of this worker's lobbies: a WebAssembly.Module
   * crosses to the thread compiled (structured clone shares it).
   */
  kernel: WorldKernel;
}

export type ToWorker =
  | { type: 'spawn'; settings: LobbySettings }
  | {
      type: 'commands';
      batch: Array<[lobbyId: string, command: LobbyCommand]>;
      recycled: Array<[lobbyId: string, buffer: ArrayBuffer]>;
    }
  /** Stops the lobby's actor; its particle reservation stays (a restart follows, or a release). */
  | { type: 'stop'; lobbyId: string }
  /** Holds particles for a lobby before it runs here: one adopted from a dead worker, restarting. */
  | { type: 'reserve'; lobbyId: string; particles: number }
  /** The lobby has ended: its particles are free. */
  | { type: 'release'; lobbyId: string }
  | { type: 'shutdown' };

export type FromWorker =
  | { type: 'event'; lobbyId: string; event: LobbyEvent }
  /** First message of every worker: it loaded, and the priority its thread got. */
  | { type: 'started'; priority: ThreadPriority };
