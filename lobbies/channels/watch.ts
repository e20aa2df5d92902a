// Latest-value cell with a version (tokio `watch` semantics).
//
// Owns: one current value (e.g. lobby status, a drain signal) and a version
// counter that starts at 0 and increases by 1 on every `set`.
//
// Capacity: exactly one value. Intermediate values are not kept: a reader
// that looks less often than the writer sets sees only the latest, which is
// what status and shutdown signals want.
//
// Ordering: versions are strictly increasing. Listeners run synchronously in
// subscription order on each `set`. If a listener sets again, the inner set
// notifies everyone with the newer value and the outer notification stops, so
// no listener is handed a stale value after a newer one.
//
// Lag: none by design; a reader that polls compares `version` with the one it
// last saw, which says whether any set happened since, not how many.
//
// Close: after `close()`, `set`/`update` throw and listeners are dropped; the
// last value stays readable. A throwing listener is reported (via
// `onListenerError`, default console.error) and never stops the others or
// fails the set.

export interface WatchOptions {
  /** Called when a listener throws; defaults to console.error. */
  onListenerError?: (error: unknown) => void;
}

interface ListenerEntry<T> {
  readonly fn: (value: T, version: number) => void;
  active: boolean;
}

export class Watch<T> {
  #value: T;
  #version = 0;
  #closed = false;
  // Copy-on-write, so a set iterates a stable snapshot without copying it.
  #listeners: ListenerEntry<T>[] = [];
  readonly #onListenerError: (error: unknown) => void;

  constructor(initial: T, options: WatchOptions = {}) {
    this.#value = initial;
    this.#onListenerError =
      options.onListenerError ?? ((error) => console.error('watch listener threw', error));
  }

  get(): T {
    return this.#value;
  }

  get version(): number {
    return this.#version;
  }

  get closed(): boolean {
    return this.#closed;
  }

  set(value: T): void {
    if (this.#closed) throw new Error('Watch is closed');
    this.#value = value;
    const version = ++this.#version;
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      // A listener set a newer value; that set already notified everyone.
      if (this.#version !== version) return;
      const entry = listeners[i];
      if (!entry.active) continue;
      try {
        entry.fn(value, version);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }

  /** `set(fn(get()))`; `fn` is not called when closed. */
  update(fn: (current: T) => T): void {
    if (this.#closed) throw new Error('Watch is closed');
    this.set(fn(this.#value));
  }

  /** Call `listener` on every later set (not with the current value). Returns an idempotent unsubscribe. */
  subscribe(listener: (value: T, version: number) => void): () => void {
    const entry: ListenerEntry<T> = { fn: listener, active: true };
    this.#listeners = [...this.#listeners, entry];
    return () => {
      if (!entry.active) return;
      entry.active = false;
      this.#listeners = this.#listeners.filter((e) => e !== entry);
    };
  }

  /** Refuse further sets; the last value stays readable. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#listeners = [];
  }
}
