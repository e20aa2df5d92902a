/**
 * Node's side of splitting a world across threads: `spawnPartitionThread`
 * is the PartitionSpawner a lobby worker hands to
 * `new World({ partitions, spawnPartition: spawnPartitionThread })`. Each
 * call starts one worker thread on world-partition-thread.ts (the .ts
 * through tsx's loader when running from source, as spawn-worker.ts does
 * for lobby workers) and reports its death through `failure`.
 *
 * The threads are unref'd: a world nobody closed does not keep the
 * process alive (World.close() is still what stops them).
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from './spawn-worker.js';
import type { PartitionStart } from './world/partition-loop.js';
import type { PartitionSpawner, PartitionThread } from './world/world-split.js';

export const spawnPartitionThread: PartitionSpawner = (start: PartitionStart) => {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(
    fromSource ? './world-partition-thread.ts' : './world-partition-thread.js',
    import.meta.url,
  );
  const worker = spawnWorker(entry, { workerData: start });
  worker.unref();
  return new WorkerPartition(worker);
};

class WorkerPartition implements PartitionThread {
  readonly #worker: Worker;
  #failure: string | undefined;
  #terminated = false;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('error', (error) => {
      this.#failure ??= `threw: ${error instanceof Error ? error.message : String(error)}`;
    });
    worker.on('exit', (code) => {
      this.#failure ??= this.#terminated ? 'terminated' : `exited with code ${code}`;
    });
  }

  get failure(): string | undefined {
    return this.#failure;
  }

  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    void this.#worker.terminate();
  }
}
