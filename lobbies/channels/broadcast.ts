// Single-producer broadcast ring (tokio `broadcast` semantics).
//
// Owns: the last `capacity` values sent (e.g. encoded world snapshots), each
// stored once and read by any number of receivers, each with its own cursor.
//
// Capacity: fixed at construction (integer >= 1). The ring is allocated once;
// when it is full, `send` overwrites the oldest value, so the producer never
// waits on slow readers and memory stays bounded. Overwriting the slot drops
// the ring's reference so the old value can be garbage-collected.
//
// Ordering: values get consecutive sequence numbers 0, 1, 2, ... and every
// receiver reads them in that order. A new receiver starts after the newest
// value present when it subscribed: it sees only future values.
//
// Lag: a receiver whose next seq has been overwritten (it fell more than
// `capacity` behind) gets `{ kind: 'lagged', skipped }` once, with the exact
// number of values it lost, and then continues from the oldest retained one.
// A slow reader therefore learns that it lost data and by how much instead of
// silently skipping, and it never holds the producer back.
//
// Eviction: an `onEvict` callback hears each value the moment it leaves the
// ring (overwritten by a newer one), when no reader can get it any more;
// the owner of pooled storage behind the values recycles it there.
//
// Close: after `close()`, `send` throws. Receivers can still read retained
// values they have not read yet; after that they get `{ kind: 'closed' }`.
//
// `onSend` listeners run synchronously after each send; a throwing listener
// is reported and does not stop the others or fail the send (the value has
// already been stored). A listener that itself sends re-enters: listeners
// after it are told about the inner seq before the outer one.

export type RecvResult<T> =
  | { kind: 'value'; seq: number; value: T }
  | { kind: 'lagged'; skipped: number }
  | { kind: 'empty' }
  | { kind: 'closed' };

export type RecvNewestResult<T> =
  | { kind: 'value'; seq: number; value: T; skipped: number }
  | { kind: 'empty' }
  | { kind: 'closed' };

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

// Shared so that polling an idle channel allocates nothing.
const EMPTY: { kind: 'empty' } = Object.freeze({ kind: 'empty' as const });
const CLOSED: { kind: 'closed' } = Object.freeze({ kind: 'closed' as const });

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

  /** A receiver that will see only values sent from now on. */
  subscribe(): BroadcastReceiver<T> {
    return new BroadcastReceiver(this, this.#nextSeq);
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

export class BroadcastReceiver<T> {
  readonly #channel: Broadcast<T>;
  #nextSeq: number;

  /** Use `Broadcast.subscribe()`. */
  constructor(channel: Broadcast<T>, nextSeq: number) {
    this.#channel = channel;
    this.#nextSeq = nextSeq;
  }

  /** Seq this receiver will read next. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Values sent but not yet read, including any already overwritten. */
  get pending(): number {
    return this.#channel.newestSeq + 1 - this.#nextSeq;
  }

  tryRecv(): RecvResult<T> {
    const channel = this.#channel;
    const oldest = channel.oldestSeq;
    if (this.#nextSeq < oldest) {
      const skipped = oldest - this.#nextSeq;
      this.#nextSeq = oldest;
      return { kind: 'lagged', skipped };
    }
    const seq = this.#nextSeq;
    if (seq <= channel.newestSeq) {
      this.#nextSeq = seq + 1;
      // In range, so the cast is sound even when T itself admits undefined.
      return { kind: 'value', seq, value: channel.get(seq) as T };
    }
    return channel.closed ? CLOSED : EMPTY;
  }

  /**
   * Jump to the newest value. `skipped` counts every unread value passed over,
   * whether it was still retained or already overwritten.
   */
  recvNewest(): RecvNewestResult<T> {
    const channel = this.#channel;
    const newest = channel.newestSeq;
    if (this.#nextSeq > newest) return channel.closed ? CLOSED : EMPTY;
    const skipped = newest - this.#nextSeq;
    this.#nextSeq = newest + 1;
    return { kind: 'value', seq: newest, value: channel.get(newest) as T, skipped };
  }
}
