/**
 * Log lines that a client can provoke, rationed: at most one per key (an
 * IP, a kind of failure) per interval, and at most `maxLinesPerInterval`
 * for all keys together, so that neither one peer nor many addresses can
 * turn our log into their amplifier. The line that does get through says
 * how many were held back for its key since the last one. Keys are
 * bounded (the least recently used forgotten first), so memory is too.
 */
import type { Logger } from './logger.js';

export interface LogThrottleOptions {
  /** At most one line per key per this many ms. */
  intervalMs: number;
  /** At most this many lines per interval for all keys together. */
  maxLinesPerInterval?: number;
  /** Keys remembered at once; beyond it the least recently used is forgotten. */
  maxKeys?: number;
  now?: () => number;
}

type Level = 'error' | 'warn' | 'info' | 'debug';

export class LogThrottle {
  #log: Logger;
  #intervalMs: number;
  #maxLines: number;
  #maxKeys: number;
  #now: () => number;
  /** Per key: when it last logged, and how many lines were held back since. */
  #keys = new Map<string, { at: number; suppressed: number }>();
  #windowEndsAt = Number.NEGATIVE_INFINITY;
  #linesInWindow = 0;

  constructor(log: Logger, options: LogThrottleOptions) {
    this.#log = log;
    this.#intervalMs = options.intervalMs;
    this.#maxLines = options.maxLinesPerInterval ?? Number.POSITIVE_INFINITY;
    this.#maxKeys = options.maxKeys ?? 1024;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Logs `message` with `fields` unless `key`, or everyone, has logged enough lately. */
  log(level: Level, key: string, fields: Record<string, unknown>, message: string): boolean {
    const now = this.#now();
    if (now >= this.#windowEndsAt) {
      this.#windowEndsAt = now + this.#intervalMs;
      this.#linesInWindow = 0;
    }
    const entry = this.#keys.get(key) ?? { at: Number.NEGATIVE_INFINITY, suppressed: 0 };
    // Re-inserted: the map's order is least recently used first.
    this.#keys.delete(key);
    this.#keys.set(key, entry);
    if (this.#keys.size > this.#maxKeys)
      this.#keys.delete(this.#keys.keys().next().value as string);
    if (now - entry.at < this.#intervalMs || this.#linesInWindow >= this.#maxLines) {
      entry.suppressed++;
      return false;
    }
    this.#linesInWindow++;
    const suppressed = entry.suppressed;
    entry.at = now;
    entry.suppressed = 0;
    this.#log[level](suppressed > 0 ? { ...fields, suppressed } : fields, message);
    return true;
  }
}
