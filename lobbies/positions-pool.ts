/**
 * The position buffers of one lobby's frames, recycled. On a worker, each
 * frame's buffer is transferred to the main thread and comes back when the
 * frame leaves the handle's ring, so a running lobby stops allocating them.
 * Without it a 50,000-particle lobby allocates 200 KB of ArrayBuffer per
 * tick (12 MB/s), external memory that V8 answers with full collections on
 * the tick thread.
 *
 * A buffer that comes back with the wrong length (the particle count changed
 * since it left) is dropped; the free list is bounded, since a buffer only
 * waits here until the next tick.
 */
export class PositionsPool {
  #free: ArrayBuffer[] = [];
  #maxFree: number;
  #allocated = 0;

  constructor(maxFree = 8) {
    this.#maxFree = maxFree;
  }

  /** Buffers this pool has had to allocate: flat once frames come back. */
  get allocated(): number {
    return this.#allocated;
  }

  /** A positions array of `length` uint16s, recycled if one is free. Contents are stale. */
  take(length: number): Uint16Array {
    const bytes = length * Uint16Array.BYTES_PER_ELEMENT;
    for (let buffer = this.#free.pop(); buffer !== undefined; buffer = this.#free.pop()) {
      if (buffer.byteLength === bytes) return new Uint16Array(buffer);
    }
    this.#allocated++;
    return new Uint16Array(length);
  }

  /** Takes back a buffer no frame refers to any more. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength > 0 && this.#free.length < this.#maxFree) this.#free.push(buffer);
  }
}
