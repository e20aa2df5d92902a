/**
 * The entry point of a lobby worker thread: raises its own scheduling
 * priority, runs the lobbies the pool places here on the precise clock,
 * applies command batches (checkpoint and hand-over requests among them),
 * takes back recycled positions buffers, and posts each event back (frames
 * with their positions buffer transferred, checkpoints with their particle
 * arrays transferred). A lobby resumed from a checkpoint gets it in its
 * spawn settings. A
 * throwing lobby is reported as that lobby's failure; the worker carries on.
 * Its lobbies share one particle budget: a spawn that would take the
 * worker's total past it is refused (particle_cap). A stopped or failed
 * lobby keeps its reservation until the pool releases it (a restart may
 * follow).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Lobby } from './lobby.js';
import { describeError } from './lobby-machine.js';
import type { FaultKind, LobbyEvent } from './lobby-messages.js';
import { ParticleBudget } from './particle-budget.js';
import { PositionsPool } from './positions-pool.js';
import { createPreciseClock } from './precise-clock.js';
import { raiseThreadPriority } from './thread-priority.js';
import { spawnPartitionThread } from './world-partitions.js';
import type { FromWorker, ToWorker, WorkerBootData } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('worker-main.ts runs only as a worker thread');
const options = workerData as WorkerBootData;

const clock = createPreciseClock();
const lobbies = new Map<string, { lobby: Lobby; positions: PositionsPool }>();
const budget = new ParticleBudget(options.particleBudget);

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function post(lobbyId: string, event: LobbyEvent): void {
  send({ type: 'event', lobbyId, event }, transferOf(event));
}

/**
 * Buffers that move to the main thread instead of being copied: a frame's
 * positions, a checkpoint's particle arrays (fresh copies the lobby made
 * for it, which nothing here refers to).
 */
function transferOf(event: LobbyEvent): ArrayBuffer[] {
  if (event.type === 'frame') return [event.positions.buffer as ArrayBuffer];
  if (event.type === 'checkpoint') {
    const { x, y, vx, vy } = event.checkpoint.world;
    return [x, y, vx, vy].map((a) => a.buffer as ArrayBuffer);
  }
  return [];
}

function fail(lobbyId: string, error: unknown): void {
  lobbies.get(lobbyId)?.lobby.stop();
  lobbies.delete(lobbyId);
  post(lobbyId, { type: 'failed', error: describeError(error) });
}

/** Test-only faults that take the whole worker down, as a crash would. */
function killWorker(kind: Exclude<FaultKind, 'throw' | 'partition'>): void {
  if (kind === 'exit') process.exit(70);
  if (kind === 'uncaught') {
    setImmediate(() => {
      throw new Error('injected uncaught error (SWARMHOST_FAULT_INJECTION)');
    });
    return;
  }
  // Fill the heap until V8 stops the worker at its resourceLimits.
  const hog: number[][] = [];
  for (;;) hog.push(new Array<number>(1 << 20).fill(hog.length));
}

send({ type: 'started', priority: raiseThreadPriority(options.priority) });

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'spawn': {
      const { id } = message.settings;
      try {
        const positions = new PositionsPool();
        // The pool admitted it: its reservation is held whatever this
        // worker counts (see the bound in worker-pool.ts).
        const lobby = new Lobby(
          message.settings,
          (event) => post(id, event),
          clock,
          positions,
          budget,
          options.kernel,
          spawnPartitionThread,
        );
        lobbies.set(id, { lobby, positions });
        lobby.start();
      } catch (error) {
        fail(id, error);
      }
      return;
    }
    case 'commands':
      for (const [lobbyId, buffer] of message.recycled)
        lobbies.get(lobbyId)?.positions.give(buffer);
      for (const [lobbyId, command] of message.batch) {
        if (command.type === 'fault' && command.kind !== 'throw' && command.kind !== 'partition')
          killWorker(command.kind);
        const lobby = lobbies.get(lobbyId)?.lobby;
        if (!lobby) continue;
        try {
          lobby.receive(command);
        } catch (error) {
          fail(lobbyId, error);
        }
      }
      return;
    case 'stop':
      lobbies.get(message.lobbyId)?.lobby.stop();
      lobbies.delete(message.lobbyId);
      return;
    case 'reserve':
      budget.hold(message.lobbyId, message.particles);
      return;
    case 'release':
      budget.release(message.lobbyId);
      return;
    case 'shutdown':
      for (const { lobby } of lobbies.values()) lobby.stop();
      lobbies.clear();
      port.close();
      return;
  }
});
