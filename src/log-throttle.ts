/**
 * Log lines that a client can provoke, at most one per key per interval:
 * whatever a peer sends, it cannot turn our log into its amplifier. The
 * line that does get through says how many were held back since the last
 * one. Keys are bounded (oldest forgotten first), so neither can memory.
 */
import type { Logger } from './logger.js';

/** Keys remembered at once; beyond it the oldest key is forgotten. */
const MAX_KEYS = 1024;

type Level = 'error' | 'warn' | 'info' | 'debug';

export class LogThrottle {
  #log: Logger;
  #intervalMs: number;
  #now: () => number;
  /** Per key: when it last logged, and how many lines were held back since. */
  #keys = new Map<string, { at: number; suppressed: number }>();

  constructor(log: Logger, intervalMs: number, now: () => number = () => performance.now()) {
    this.#log = log;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Logs `message` with `fields` unless `key` logged within the interval. */
  log(level: Level, key: string, fields: Record<string, unknown>, message: string): boolean {
    const now = this.#now();
    const entry = this.#keys.get(key);
    if (entry && now - entry.at < this.#intervalMs) {
      entry.suppressed++;
      return false;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.#keys.delete(key);
    this.#keys.set(key, { at: now, suppressed: 0 });
    if (this.#keys.size > MAX_KEYS) this.#keys.delete(this.#keys.keys().next().value as string);
    this.#log[level](suppressed > 0 ? { ...fields, suppressed } : fields, message);
    return true;
  }
}
