/**
 * The worker-thread lobby host: a pool of worker threads, each running the
 * lobbies placed on it (worker-main.ts). A new lobby goes to the live worker
 * with the fewest particles, if its particles fit that worker's particle
 * budget; a lobby that fits on no worker is refused (instance full).
 * Commands are batched per event-loop turn; frame
 * buffers arrive transferred, so a frame is never copied per client, and go
 * back (transferred again, with the next batch) when the frame leaves its
 * lobby's ring, so a running lobby allocates none. Workers raise their own
 * thread priority (thread-priority.ts) so that ticks run before sends on a
 * busy machine.
 *
 * A worker that dies (uncaught error, process.exit, out of memory) is
 * replaced, and each of its lobbies is reported failed to its supervisor,
 * which restarts it on the worker that took over its seat. Shutdown stops
 * every worker and waits for the threads to exit.
 *
 * Admission, and the bound it keeps. Placement runs here, on the main
 * thread, against its own view of each worker: the seats it admitted there,
 * each at the particles its lobby last reported (a status goes out whenever
 * a tick changes the count). Spawns are granted on the worker, against the
 * worker's own budget (worker-main.ts), which counts the same lobbies
 * exactly. The view trails the worker only by the spawns granted since the
 * last status arrived, and only from below: a release leaves here before
 * any placement that could reuse its room, and a worker handles messages in
 * order. So the main thread may place a lobby on a worker whose real total
 * is higher than it saw; the worker holds that lobby anyway (it was
 * admitted), and its total then exceeds the budget by at most the spawn
 * growth not yet reported when the lobby was placed (a tick or two of
 * spawns), never by more than that lobby's initial particles. While over,
 * the worker refuses every spawn, so the excess cannot grow; it goes as
 * lobbies end. A restarting lobby keeps its seat: on its own worker, or on
 * the worker that replaced a dead one (which is told to hold it at once);
 * only when no replacement exists yet (workers dying before they ever ran)
 * does a restart go to the live worker with the most room, budget or not.
 */
import type { Worker } from 'node:worker_threads';
import type { Clock } from './clock.js';
import {
  instanceFull,
  type LobbyHost,
  type SpawnResult,
  type ThreadCapacity,
} from './lobby-host.js';
import type { LobbyCommand, LobbyEvent, LobbySettings } from './lobby-messages.js';
import { partitionsFor, shareOf } from './lobby-partitions.js';
import type { LobbyRunner } from './lobby-runner.js';
import { spawnWorker } from './spawn-worker.js';
import { type RestartPolicy, superviseLobby } from './supervisor.js';
import type { PriorityRequest, ThreadPriority } from './thread-priority.js';
import type { FromWorker, ToWorker, WorkerBootData } from './worker-protocol.js';
import { JS_KERNEL, type WorldKernel } from './world/wasm-kernel.js';

export interface WorkerPoolOptions {
  size: number;
  frameRing: number;
  restartPolicy: RestartPolicy;
  /** Clock for restart backoff on the main thread. */
  clock?: Clock;
  /** Each worker's JS heap limit (MB): one that exceeds it dies alone, like any crash. */
  heapMb?: number;
  /** Scheduling priority each worker sets on its own thread (Linux); default: leave it. */
  priority?: PriorityRequest;
  /** Told when a worker has loaded, with the priority its thread got. */
  onWorkerStarted?: (workerId: number, priority: ThreadPriority) => void;
  /** Told when a worker dies, with its exit code or error. */
  onWorkerExit?: (workerId: number, reason: string) => void;
  /** Particles all the lobbies on one worker may hold together; default: no limit. */
  particleBudget?: number;
  /** What steps the lobbies' worlds on every worker; default: the JS kernel. */
  kernel?: WorldKernel;
  /** Most threads one lobby's world may be split over (lobby-partitions.ts); default 1: never split. Only on the wasm kernel. */
  maxPartitions?: number;
}

interface PooledLobby {
  sink: (event: LobbyEvent) => void;
}

/** A lobby's room on a worker, from admission until the lobby ends (across restarts). */
interface Seat {
  id: string;
  /** Particles it holds as this thread sees them: initial, then as its lobby reports. */
  particles: number;
  /** The worker it runs on, whose budget holds it; none while that worker is dead and unreplaced. */
  worker: PooledWorker | undefined;
  /** Threads its world is split over (1: not split); each worker it uses is charged 1/partitions of it. */
  partitions: number;
  /** The other workers charged a share of a split lobby (for the cores its partition threads use). */
  helpers: PooledWorker[];
}

interface PooledWorker {
  id: number;
  thread: Worker;
  /** Incarnations running on it now. */
  lobbies: Map<string, PooledLobby>;
  /** Lobbies whose particles its budget holds (running, paused or restarting). */
  seats: Map<string, Seat>;
  batch: Array<[string, LobbyCommand]>;
  /** Positions buffers going back with the next batch. */
  recycled: Array<[string, ArrayBuffer]>;
  /** Why the main thread ended it, if it did. */
  failure?: string;
  priority?: ThreadPriority;
  alive: boolean;
  /** It has spoken at least once: it loaded and ran. */
  booted: boolean;
}

const MAX_REPLACE_DELAY_MS = 10_000;

export class WorkerLobbyHost implements LobbyHost {
  #options: WorkerPoolOptions;
  #budget: number;
  #maxPartitions: number;
  #workers: PooledWorker[] = [];
  #nextWorkerId = 1;
  #stopping = false;
  /** Workers in a row that died before they ever ran. */
  #quickDeaths = 0;

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RangeError('a worker pool needs at least 1 worker');
    this.#options = options;
    this.#budget = options.particleBudget ?? Number.POSITIVE_INFINITY;
    // A split world shares the wasm kernel's memory between threads: the JS kernel never splits.
    this.#maxPartitions = options.kernel?.kind === 'wasm' ? (options.maxPartitions ?? 1) : 1;
    for (let i = 0; i < options.size; i++) this.#workers.push(this.#startWorker());
  }

  /** Live workers and the lobbies on each (for tests, status and placement checks). */
  get workers(): ReadonlyArray<{
    id: number;
    lobbies: string[];
    particles: number;
    /** The priority its thread got; undefined until it has started. */
    priority: ThreadPriority | undefined;
  }> {
    return this.#workers.map((w) => ({
      id: w.id,
      lobbies: [...w.lobbies.keys()],
      particles: load(w),
      priority: w.priority,
    }));
  }

  /**
   * Admits a lobby onto the least-loaded live worker its particles fit, or,
   * when they fit no one worker, split over the least-loaded workers that
   * each have room for its share (lobby-partitions.ts); else refuses it.
   */
  spawn(settings: LobbySettings): SpawnResult {
    const budget = this.#budget;
    const { particles } = settings;
    // Each live worker's load, summed over its seats once (not in the sort's comparator).
    const live = this.#workers
      .filter((w) => w.alive)
      .map((worker) => ({ worker, load: load(worker) }));
    const freest = Math.max(0, ...live.map((w) => budget - w.load));
    const partitions = partitionsFor(particles, budget, this.#maxPartitions, live.length);
    if (partitions === undefined) return instanceFull(particles, freest, budget);
    const share = shareOf(particles, partitions);
    // The sort is stable: equally loaded workers keep their pool order.
    const chosen = live
      .filter((w) => w.load + share <= budget)
      .sort((a, b) => a.load - b.load)
      .slice(0, partitions)
      .map((w) => w.worker);
    if (chosen.length < partitions) return instanceFull(particles, freest, budget);
    const [owner, ...helpers] = chosen;
    const seat: Seat = { id: settings.id, particles, worker: undefined, partitions, helpers };
    this.#attach(seat, owner);
    for (const helper of helpers) {
      helper.seats.set(seat.id, seat);
      this.#send(helper, { type: 'reserve', lobbyId: seat.id, particles: share });
    }
    const handle = superviseLobby(
      partitions > 1 ? { ...settings, partitions } : settings,
      {
        place: (incarnation, sink) => this.#place(seat, incarnation, sink),
        release: () => this.#release(seat),
      },
      {
        frameRing: this.#options.frameRing,
        policy: this.#options.restartPolicy,
        clock: this.#options.clock,
      },
    );
    return { ok: true, handle };
  }

  capacity(): ThreadCapacity[] {
    return this.#workers
      .filter((w) => w.alive)
      .map((w) => ({
        worker: String(w.id),
        particles: load(w),
        budget: this.#budget,
        lobbies: w.seats.size,
      }));
  }

  async shutdown(): Promise<void> {
    this.#stopping = true;
    const exits = this.#workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (!w.alive) return resolve();
          w.thread.once('exit', () => resolve());
          this.#send(w, { type: 'shutdown' });
          // A worker stuck in a tick does not get to hold shutdown hostage.
          setTimeout(() => void w.thread.terminate(), 2000).unref();
        }),
    );
    await Promise.all(exits);
    this.#workers = [];
  }

  /** Starts an incarnation of a seat's lobby on the seat's worker. */
  #place(seat: Seat, settings: LobbySettings, sink: (event: LobbyEvent) => void): LobbyRunner {
    let worker = seat.worker;
    if (!worker?.alive) {
      // Its worker died before a replacement could adopt the seat: it was
      // admitted once, so it goes where there is the most room, fit or not.
      const live = this.#workers.filter((w) => w.alive);
      if (live.length === 0) throw new Error('no live lobby workers');
      worker = live.reduce((best, w) => (load(w) < load(best) ? w : best));
      this.#attach(seat, worker);
    }
    const lobbyId = settings.id;
    const entry: PooledLobby = { sink };
    worker.lobbies.set(lobbyId, entry);
    this.#send(worker, { type: 'spawn', settings });
    let stopped = false;
    return {
      post: (command) => {
        if (stopped || !worker.alive) return;
        // Inputs go out at the end of this event-loop turn, all in one message.
        if (worker.batch.length === 0) queueMicrotask(() => this.#flush(worker));
        worker.batch.push([lobbyId, command]);
      },
      recycle: (buffer) => {
        if (stopped || !worker.alive || buffer.byteLength === 0) return;
        // Buffers are not urgent: they wait for the loop to go round, so the
        // frames of every lobby on the worker that arrived meanwhile send
        // theirs back in one message (with any inputs of that turn).
        if (worker.recycled.length === 0) setImmediate(() => this.#flush(worker));
        worker.recycled.push([lobbyId, buffer]);
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        if (worker.lobbies.get(lobbyId) === entry) worker.lobbies.delete(lobbyId);
        if (worker.alive) {
          this.#flush(worker);
          this.#send(worker, { type: 'stop', lobbyId });
        }
      },
    };
  }

  /** Counts a seat on a worker (moving it from any other). */
  #attach(seat: Seat, worker: PooledWorker): void {
    if (seat.worker?.seats.get(seat.id) === seat) seat.worker.seats.delete(seat.id);
    seat.worker = worker;
    worker.seats.set(seat.id, seat);
  }

  /** The lobby has ended: the budget of each worker it used gets its particles back. */
  #release(seat: Seat): void {
    for (const helper of seat.helpers) {
      if (helper.seats.get(seat.id) !== seat) continue;
      helper.seats.delete(seat.id);
      this.#send(helper, { type: 'release', lobbyId: seat.id });
    }
    seat.helpers = [];
    const worker = seat.worker;
    seat.worker = undefined;
    if (!worker || worker.seats.get(seat.id) !== seat) return;
    worker.seats.delete(seat.id);
    this.#send(worker, { type: 'release', lobbyId: seat.id });
  }

  #flush(worker: PooledWorker): void {
    if ((worker.batch.length === 0 && worker.recycled.length === 0) || !worker.alive) return;
    const { batch, recycled } = worker;
    worker.batch = [];
    worker.recycled = [];
    this.#send(
      worker,
      { type: 'commands', batch, recycled },
      recycled.map(([, buffer]) => buffer),
    );
  }

  #send(worker: PooledWorker, message: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (!worker.alive) return;
    try {
      worker.thread.postMessage(message, transfer);
    } catch (error) {
      // Runs from microtasks and immediates: a throw here (a buffer that
      // cannot be transferred) would take the process down. The worker
      // misses this batch, which ends its lobbies as a crash would.
      worker.failure = `message to worker failed: ${String(error)}`;
      void worker.thread.terminate();
    }
  }

  #startWorker(): PooledWorker {
    const worker: PooledWorker = {
      id: this.#nextWorkerId++,
      thread: spawnWorkerThread(
        {
          priority: this.#options.priority ?? { nice: null, realtime: null },
          particleBudget: this.#budget,
          kernel: this.#options.kernel ?? JS_KERNEL,
        },
        this.#options.heapMb,
      ),
      lobbies: new Map(),
      seats: new Map(),
      batch: [],
      recycled: [],
      alive: true,
      booted: false,
    };
    worker.thread.on('message', (message: FromWorker) => {
      worker.booted = true;
      if (message.type === 'started') {
        worker.priority = message.priority;
        return this.#options.onWorkerStarted?.(worker.id, message.priority);
      }
      const lobby = worker.lobbies.get(message.lobbyId);
      if (!lobby) return;
      const { event } = message;
      if (event.type === 'status') {
        const seat = worker.seats.get(message.lobbyId);
        if (seat) seat.particles = event.status.particles;
      }
      lobby.sink(event);
    });
    let reason = '';
    worker.thread.on('error', (error) => {
      reason = `${error.name}: ${error.message}`;
    });
    worker.thread.on('exit', (code) =>
      this.#onExit(worker, reason || worker.failure || `exit code ${code}`),
    );
    return worker;
  }

  #onExit(worker: PooledWorker, reason: string): void {
    worker.alive = false;
    if (this.#stopping) return;
    this.#options.onWorkerExit?.(worker.id, reason);
    // Replace the worker first, so its lobbies can restart on it too; but
    // workers that die before they ever run (a broken build, say) are
    // replaced ever more slowly instead of in a tight loop.
    this.#workers = this.#workers.filter((w) => w !== worker);
    this.#quickDeaths = worker.booted ? 0 : this.#quickDeaths + 1;
    let adopter: PooledWorker | undefined;
    if (this.#quickDeaths === 0) this.#workers.push((adopter = this.#startWorker()));
    else {
      const delay = Math.min(MAX_REPLACE_DELAY_MS, 100 * 2 ** this.#quickDeaths);
      setTimeout(() => {
        if (!this.#stopping) this.#workers.push(this.#startWorker());
      }, delay).unref();
    }
    // The replacement takes over the dead worker's seats before its lobbies
    // hear of the crash, so their restarts (or releases) find them there,
    // and nothing admitted meanwhile takes their room.
    // A split lobby that only had a share here (its partition threads run
    // on its own worker, which lives on) moves that share to the adopter.
    const seats = [...worker.seats.values()];
    worker.seats.clear();
    for (const seat of seats) {
      const helper = seat.worker !== worker;
      if (helper) seat.helpers = seat.helpers.filter((w) => w !== worker);
      else seat.worker = undefined;
      if (!adopter) continue;
      if (helper) {
        seat.helpers.push(adopter);
        adopter.seats.set(seat.id, seat);
      } else this.#attach(seat, adopter);
      this.#send(adopter, { type: 'reserve', lobbyId: seat.id, particles: shareOfSeat(seat) });
    }
    const orphans = [...worker.lobbies.values()];
    worker.lobbies.clear();
    for (const lobby of orphans)
      lobby.sink({ type: 'failed', error: `worker ${worker.id} died: ${reason}` });
  }
}

/** Particles the seats on a worker hold, as this thread sees them: a split lobby's share. */
const load = (worker: PooledWorker): number => {
  let particles = 0;
  for (const seat of worker.seats.values()) particles += shareOfSeat(seat);
  return particles;
};

const shareOfSeat = (seat: Seat): number => shareOf(seat.particles, seat.partitions);

/**
 * Starts worker-main: the compiled .js next to this file, or, when running
 * from TypeScript sources (tests, `npm run dev`), the .ts through tsx's loader.
 */
function spawnWorkerThread(workerData: WorkerBootData, heapMb: number | undefined): Worker {
  const resourceLimits = heapMb === undefined ? undefined : { maxOldGenerationSizeMb: heapMb };
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './worker-main.ts' : './worker-main.js', import.meta.url);
  return spawnWorker(entry, { workerData, resourceLimits });
}
