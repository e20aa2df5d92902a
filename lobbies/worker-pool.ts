/**
 * The worker-thread lobby host: a pool of worker threads, each running the
 * lobbies placed on it (worker-main.ts). A new lobby goes to the live worker
 * with the fewest particles. Commands are batched per event-loop turn; frame
 * buffers arrive transferred, so a frame is never copied per client, and go
 * back (transferred again, with the next batch) when the frame leaves its
 * lobby's ring, so a running lobby allocates none. Workers raise their own
 * thread priority (thread-priority.ts) so that ticks run before sends on a
 * busy machine.
 *
 * A worker that dies (uncaught error, process.exit, out of memory) is
 * replaced, and each of its lobbies is reported failed to its supervisor,
 * which restarts it on the live workers. Shutdown stops every worker and
 * waits for the threads to exit.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Clock } from './clock.js';
import type { LobbyHost } from './lobby-host.js';
import type { LobbyHandle } from './lobby-handle.js';
import type { LobbyCommand, LobbyEvent, LobbySettings } from './lobby-messages.js';
import type { LobbyPlacer } from './lobby-runner.js';
import { type RestartPolicy, superviseLobby } from './supervisor.js';
import type { PriorityRequest, ThreadPriority } from './thread-priority.js';
import type { FromWorker, ToWorker, WorkerBootData } from './worker-protocol.js';

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
}

interface PooledLobby {
  sink: (event: LobbyEvent) => void;
  particles: number;
}

interface PooledWorker {
  id: number;
  thread: Worker;
  lobbies: Map<string, PooledLobby>;
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
  #workers: PooledWorker[] = [];
  #nextWorkerId = 1;
  #stopping = false;
  /** Workers in a row that died before they ever ran. */
  #quickDeaths = 0;

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RangeError('a worker pool needs at least 1 worker');
    this.#options = options;
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

  spawn(settings: LobbySettings): LobbyHandle {
    return superviseLobby(settings, this.#place, {
      frameRing: this.#options.frameRing,
      policy: this.#options.restartPolicy,
      clock: this.#options.clock,
    });
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

  #place: LobbyPlacer = (settings, sink) => {
    const live = this.#workers.filter((w) => w.alive);
    if (live.length === 0) throw new Error('no live lobby workers');
    const worker = live.reduce((best, w) => (load(w) < load(best) ? w : best));
    const lobbyId = settings.id;
    const entry: PooledLobby = { sink, particles: settings.particles };
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
  };

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
        { priority: this.#options.priority ?? { nice: null, realtime: null } },
        this.#options.heapMb,
      ),
      lobbies: new Map(),
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
      if (event.type === 'status') lobby.particles = event.status.particles;
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
    if (this.#quickDeaths === 0) this.#workers.push(this.#startWorker());
    else {
      const delay = Math.min(MAX_REPLACE_DELAY_MS, 100 * 2 ** this.#quickDeaths);
      setTimeout(() => {
        if (!this.#stopping) this.#workers.push(this.#startWorker());
      }, delay).unref();
    }
    const orphans = [...worker.lobbies.values()];
    worker.lobbies.clear();
    for (const lobby of orphans)
      lobby.sink({ type: 'failed', error: `worker ${worker.id} died: ${reason}` });
  }
}

const load = (worker: PooledWorker): number => {
  let particles = 0;
  for (const lobby of worker.lobbies.values()) particles += lobby.particles;
  return particles;
};

/**
 * Starts worker-main: the compiled .js next to this file, or, when running
 * from TypeScript sources (tests, `npm run dev`), the .ts through tsx's loader.
 */
function spawnWorkerThread(workerData: WorkerBootData, heapMb: number | undefined): Worker {
  const resourceLimits = heapMb === undefined ? undefined : { maxOldGenerationSizeMb: heapMb };
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './worker-main.ts' : './worker-main.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData, resourceLimits });
  // require.resolve finds tsx's CommonJS build; its ESM twin sits beside it.
  const tsx = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const boot = `import(${JSON.stringify(new URL(`file://${tsx}`).href)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData, resourceLimits });
}
