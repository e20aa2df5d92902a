/**
 * Failed admin authentications per client IP: how many in the IP's current
 * fixed window (past the limit, the IP is refused until that window ends).
 * (Their log lines are rationed by a LogThrottle in admin-auth.ts.)
 *
 * Memory is bounded: the IPs sit in a Map of at most `trackedIps` entries,
 * kept in the order they were last touched; a new IP beyond it evicts the
 * one touched longest ago (which then starts afresh: an attacker needs that
 * many addresses to reset one, and then has `maxFailures` per window on each
 * of them anyway). The clock is injectable for tests.
 */

/** The bounds that are not operator settings (SWARMHOST_ADMIN_AUTH_* are). */
export const AUTH_THROTTLE_BOUNDS = {
  /** IPs remembered at once (about 100 bytes each). */
  trackedIps: 10_000,
} as const;

export type AuthThrottleBounds = { -readonly [K in keyof typeof AUTH_THROTTLE_BOUNDS]: number };

export interface AuthThrottleOptions {
  /** Failures an IP may make per window before it is refused. */
  maxFailures: number;
  windowMs: number;
  now?: () => number;
  bounds?: Partial<AuthThrottleBounds>;
}

interface IpRecord {
  failures: number;
  windowEndsAt: number;
}

export class AuthThrottle {
  #records = new Map<string, IpRecord>();
  #maxFailures: number;
  #windowMs: number;
  #now: () => number;
  #bounds: AuthThrottleBounds;

  constructor(options: AuthThrottleOptions) {
    this.#maxFailures = options.maxFailures;
    this.#windowMs = options.windowMs;
    this.#now = options.now ?? (() => performance.now());
    this.#bounds = { ...AUTH_THROTTLE_BOUNDS, ...options.bounds };
  }

  /** IPs remembered now (at most `trackedIps`). */
  get size(): number {
    return this.#records.size;
  }

  /** Milliseconds `ip` must wait before it may try again; 0 when it may try now. */
  retryAfterMs(ip: string): number {
    const record = this.#records.get(ip);
    if (!record || record.failures < this.#maxFailures) return 0;
    return Math.max(0, record.windowEndsAt - this.#now());
  }

  /** Counts one failed authentication from `ip`. */
  fail(ip: string): void {
    const now = this.#now();
    const record = this.#touch(ip);
    if (now >= record.windowEndsAt) {
      record.failures = 0;
      record.windowEndsAt = now + this.#windowMs;
    }
    record.failures++;
  }

  /** A success forgives the IP's failures, so an operator's typos do not lock it out. */
  succeed(ip: string): void {
    const record = this.#records.get(ip);
    if (record) record.failures = 0;
  }

  /** The record of `ip`, created if new, moved to the newest end; evicts the oldest past the cap. */
  #touch(ip: string): IpRecord {
    let record = this.#records.get(ip);
    if (record) {
      this.#records.delete(ip);
    } else {
      record = { failures: 0, windowEndsAt: Number.NEGATIVE_INFINITY };
      if (this.#records.size >= this.#bounds.trackedIps) {
        const oldest = this.#records.keys().next().value;
        if (oldest !== undefined) this.#records.delete(oldest);
      }
    }
    this.#records.set(ip, record);
    return record;
  }
}
