// Single-producer broadcast ring.
//
// Owns: the last `capacity` values sent (e.g. encoded world snapshots), each
// stored once and read by any number of readers by sequence number.
//
// Capacity: fixed at construction (integer >= 1). The ring is allocated once;
// when it is full, `send` overwrites the oldest value, so the producer never
// waits on slow readers and memory stays bounded. Overwriting the slot drops
// the ring's reference so the old value can be garbage-collected.
//
// Ordering: values get consecutive sequence numbers 0, 1, 2, ... Readers hear
// of each send through `onSend` and read any retained value with `get(seq)`,
// usually the newest (`newestSeq`) and, for a delta, the one they last had.
//
// Lag: a reader that holds a seq older than `oldestSeq` learns that it was
// overwritten (`get` returns undefined) and, from `oldestSeq`, by how much; it
// never holds the producer back.
//
// Eviction: an `onEvict` callback hears each value the moment it leaves the
// ring (overwritten by a newer one), when no reader can get it any more;
// the owner of pooled storage behind the values recycles it there.
//
// Close: after `close()`, `send` throws and listeners are dropped; retained
// values stay readable.
//
// `onSend` listeners run synchronously after each send; a throwing listener
// is reported and does not stop the others or fail the send (the value has
// already been stored). A listener that itself sends re-enters: listeners
// after it are told about the inner seq before the outer one.

export interface BroadcastOptions<T> {
  /** Called when an `onSend` listener throws; defaults to console.error. */
  onListenerError?: (error: unknown) => void;
  /**
   * Called with each value as it is overwritten, before the listeners hear
   * of the new one; a throw is reported like a listener's.
   */
  onEvict?: (value: T) => void;
}

interface ListenerEntry<T> {
  readonly fn: (seq: number, value: T) => void;
  active: boolean;
}

export class Broadcast<T> {
  readonly capacity: number;
  readonly #buf: (T | undefined)[];
  // Seq the next send will get; also the count of values ever sent.
  #nextSeq = 0;
  #closed = false;
  // Copy-on-write: subscribe/unsubscribe replace the array, so a send
  // iterates a stable snapshot without copying it.
  #listeners: ListenerEntry<T>[] = [];
  readonly #onListenerError: (error: unknown) => void;
  readonly #onEvict: ((value: T) => void) | undefined;

  constructor(capacity: number, options: BroadcastOptions<T> = {}) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Broadcast capacity must be an integer >= 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#buf = new Array<T | undefined>(capacity).fill(undefined);
    this.#onListenerError =
      options.onListenerError ??
      ((error) => console.error('broadcast onSend listener threw', error));
    this.#onEvict = options.onEvict;
  }

  /** Store `value` (overwriting the oldest when full) and return its seq. */
  send(value: T): number {
    if (this.#closed) throw new Error('Broadcast is closed');
    const seq = this.#nextSeq;
    const slot = seq % this.capacity;
    const evicted = this.#buf[slot];
    this.#buf[slot] = value;
    this.#nextSeq = seq + 1;
    if (evicted !== undefined && this.#onEvict) {
      try {
        this.#onEvict(evicted);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      const entry = listeners[i];
      if (!entry.active) continue;
      try {
        entry.fn(seq, value);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
    return seq;
  }

  /** The value with this seq if it is still retained, else undefined. */
  get(seq: number): T | undefined {
    if (!Number.isInteger(seq) || seq < this.oldestSeq || seq >= this.#nextSeq) return undefined;
    return this.#buf[seq % this.capacity];
  }

  /** Seq of the newest value; -1 before the first send. */
  get newestSeq(): number {
    return this.#nextSeq - 1;
  }

  /** Seq of the oldest retained value; 0 before the first send. */
  get oldestSeq(): number {
    return Math.max(this.#nextSeq - this.capacity, 0);
  }

  latest(): T | undefined {
    return this.#nextSeq === 0 ? undefined : this.#buf[(this.#nextSeq - 1) % this.capacity];
  }

  /** Call `listener` synchronously after each send. Returns an idempotent unsubscribe. */
  onSend(listener: (seq: number, value: T) => void): () => void {
    const entry: ListenerEntry<T> = { fn: listener, active: true };
    this.#listeners = [...this.#listeners, entry];
    return () => {
      if (!entry.active) return;
      // Deactivate first so a send already iterating the old snapshot skips it.
      entry.active = false;
      this.#listeners = this.#listeners.filter((e) => e !== entry);
    };
  }

  /** Refuse further sends; retained values stay readable. Idempotent. */
  close(): void {
    this.#closed = true;
    // No send can happen any more, so drop the closures they would call.
    this.#listeners = [];
  }

  get closed(): boolean {
    return this.#closed;
  }
}
