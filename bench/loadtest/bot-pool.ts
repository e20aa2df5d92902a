/**
 * The load generator's bots, spread over worker threads (bot-worker.ts):
 * `add` hands new bots to the least loaded worker, `sample` gathers every
 * worker's totals and latency histogram at one moment, `stop` closes every
 * bot and ends the threads.
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../../lobbies/index.js';
import type { BotSpec, PoolRequest, WorkerReply, WorkerSample } from './bot-protocol.js';

export interface PoolSample {
  /** performance.now() when the sample was asked for. */
  at: number;
  /** One per worker, in worker order. */
  workers: WorkerSample[];
}

export class BotPool {
  #workers: Worker[];
  #sizes: number[];
  #nextSample = 0;
  #waiting = new Map<
    number,
    { replies: WorkerSample[]; resolve: (s: WorkerSample[]) => void; reject: (e: Error) => void }
  >();
  #failure: Error | undefined;
  #stopping = false;

  constructor(threads: number) {
    const entry = new URL(
      import.meta.url.endsWith('.ts') ? './bot-worker.ts' : './bot-worker.js',
      import.meta.url,
    );
    this.#workers = Array.from({ length: threads }, (_, index) =>
      spawnWorker(entry, { workerData: { index } }),
    );
    this.#sizes = this.#workers.map(() => 0);
    for (const worker of this.#workers) {
      worker.on('message', (reply: WorkerReply) => this.#onReply(reply));
      worker.on('error', (error) => this.#fail(error));
      worker.on('exit', (code) => this.#fail(new Error(`a bot worker exited (${code})`)));
    }
  }

  /** Bots added so far. */
  get size(): number {
    return this.#sizes.reduce((a, b) => a + b, 0);
  }

  /** A worker that died (the run cannot measure what it no longer drives). */
  get failure(): Error | undefined {
    return this.#failure;
  }

  add(specs: BotSpec[]): void {
    const batches: BotSpec[][] = this.#workers.map(() => []);
    for (const spec of specs) {
      const target = this.#sizes.indexOf(Math.min(...this.#sizes));
      batches[target].push(spec);
      this.#sizes[target]++;
    }
    batches.forEach((bots, i) => {
      if (bots.length > 0) this.#post(i, { type: 'add', bots });
    });
  }

  async sample(): Promise<PoolSample> {
    const id = this.#nextSample++;
    const at = performance.now();
    if (this.#failure) throw this.#failure;
    const workers = await new Promise<WorkerSample[]>((resolve, reject) => {
      this.#waiting.set(id, { replies: [], resolve, reject });
      for (let i = 0; i < this.#workers.length; i++) this.#post(i, { type: 'sample', id });
    });
    return { at, workers };
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.#workers.map(
        (worker, i) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 5000);
            worker.on('message', (reply: WorkerReply) => {
              if (reply.type !== 'stopped') return;
              clearTimeout(timer);
              resolve();
            });
            worker.once('exit', () => resolve());
            this.#post(i, { type: 'stop' });
          }),
      ),
    );
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  #fail(error: Error): void {
    if (this.#stopping) return;
    this.#failure ??= error;
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
  }

  #post(index: number, request: PoolRequest): void {
    this.#workers[index].postMessage(request);
  }

  #onReply(reply: WorkerReply): void {
    if (reply.type !== 'sample') return;
    const waiting = this.#waiting.get(reply.id);
    if (!waiting) return;
    waiting.replies.push(reply);
    if (waiting.replies.length < this.#workers.length) return;
    this.#waiting.delete(reply.id);
    // Worker order, whatever order they answered in: per-bot arrays are compared across samples.
    waiting.resolve(this.#workers.map((_, i) => waiting.replies.find((r) => r.worker === i)!));
  }
}
