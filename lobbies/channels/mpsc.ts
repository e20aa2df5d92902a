// Bounded multi-producer, single-consumer queue (tokio `mpsc` semantics).
//
// Owns: the ring buffer of values that producers (socket handlers, timers)
// have handed to one consumer (the lobby actor), which drains it once per tick.
//
// Capacity: fixed at construction (integer >= 1). The ring is allocated once
// and never grows, so a flood of input costs bounded memory. When `length`
// reaches `capacity`, `trySend` returns 'full' and the caller must refuse the
// input (reply to the client); it is never queued and never silently dropped.
//
// Ordering: strict FIFO across all producers, in the order `trySend` was
// called. `drain` visits only what was queued when it started, so values a
// visitor sends back into the queue wait for the next drain (the next tick)
// instead of extending the current one without bound.
//
// Peek: `peek` visits what is queued without taking it (for checkpoints).
//
// Close: `close()` makes every later `trySend` return 'closed'. Values that
// were already accepted stay queued and can still be drained: an accepted
// value is always delivered. There is no lag: producers are refused instead.

export type SendResult = 'ok' | 'full' | 'closed';

export class Mpsc<T> {
  readonly capacity: number;
  // Slots hold `undefined` when free so the consumer does not keep drained
  // values alive for the GC.
  readonly #buf: (T | undefined)[];
  #head = 0;
  #length = 0;
  // Monotonic counters: they let `drain` stop at the boundary that existed
  // when it started, even if a visitor re-enters `drain` or sends.
  #sent = 0;
  #received = 0;
  #closed = false;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Mpsc capacity must be an integer >= 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#buf = new Array<T | undefined>(capacity).fill(undefined);
  }

  /** Number of values waiting to be drained. */
  get length(): number {
    return this.#length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Enqueue without blocking. 'full' and 'closed' mean the value was NOT taken. */
  trySend(value: T): SendResult {
    if (this.#closed) return 'closed';
    if (this.#length === this.capacity) return 'full';
    let tail = this.#head + this.#length;
    if (tail >= this.capacity) tail -= this.capacity;
    this.#buf[tail] = value;
    this.#length++;
    this.#sent++;
    return 'ok';
  }

  /**
   * Remove and visit, in FIFO order, up to `max` values (default: all) of
   * those queued when the call started. Returns how many were visited.
   *
   * Each value is removed before `visit` sees it, so if `visit` throws, that
   * value counts as delivered and the rest stay queued for the next drain.
   */
  drain(visit: (value: T) => void, max = Number.POSITIVE_INFINITY): number {
    if (!(max >= 0) || (!Number.isInteger(max) && max !== Number.POSITIVE_INFINITY)) {
      throw new RangeError(`Mpsc drain max must be an integer >= 0, got ${max}`);
    }
    const boundary = this.#sent;
    let count = 0;
    while (count < max && this.#received < boundary) {
      const head = this.#head;
      const value = this.#buf[head] as T;
      this.#buf[head] = undefined;
      this.#head = head + 1 === this.capacity ? 0 : head + 1;
      this.#length--;
      this.#received++;
      count++;
      visit(value);
    }
    return count;
  }

  /**
   * Visit, in FIFO order, every value queued now, without removing any: a
   * look at what is waiting (a checkpoint records the accepted spawns), not
   * a delivery. `visit` must not send or drain.
   */
  peek(visit: (value: T) => void): void {
    let index = this.#head;
    for (let n = 0; n < this.#length; n++) {
      visit(this.#buf[index] as T);
      index = index + 1 === this.capacity ? 0 : index + 1;
    }
  }

  /** Refuse further sends; already-queued values remain drainable. Idempotent. */
  close(): void {
    this.#closed = true;
  }
}
