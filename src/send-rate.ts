/**
 * One client's send rate: what it asked for, capped by the server, and
 * lowered by the server on its own while the connection cannot keep up.
 *
 * The rates form a ladder (the cap, then each of SEND_RATES below it). A
 * client steps down one rung after a window in which its socket backed up
 * (unsent bytes above the backlog mark when a frame was due) or its round
 * trip grew well past the best it has shown; it steps back up after a run
 * of clean windows. A step up that is punished within one window doubles
 * the clean run the next one needs (up to RAISE_BACKOFF_MAX times), so a
 * link that holds 30 Hz but not 60 settles at 30 instead of flapping.
 *
 * Why rungs and not a free rate: clients of one rate are sent the same
 * ticks, so they share one encode per frame (a rate class).
 */
import { SEND_RATES } from '../protocol/index.js';

export interface SendRateLimits {
  /** Unsent bytes above which a due frame counts as the socket backing up. */
  backlogBytes: number;
  /** Round trip above twice the client's best plus this counts as congestion, ms. */
  rttSlackMs: number;
  /** Length of one judging window, ms. */
  windowMs: number;
  /** Clean time before a step back up, ms (before backoff). */
  raiseAfterMs: number;
}

/** Most the clean run before a step up may grow after steps up that failed. */
const RAISE_BACKOFF_MAX = 8;

/** A change of rate: the direction and the rate now. */
export interface RateChange {
  direction: 'down' | 'up';
  hz: number;
}

export class SendRate {
  #limits: SendRateLimits;
  /** What the client asked for (the top rung it may reach), per second. */
  #asked: number = SEND_RATES[0];
  /** Rungs below the top the server has lowered it by. */
  #lowered = 0;
  #windowStart: number;
  #congested = false;
  #cleanMs = 0;
  #backoff = 1;
  /** When the last step up happened; a step down within one window of it backs off. */
  #raisedAt = Number.NEGATIVE_INFINITY;
  #bestRttMs = Number.POSITIVE_INFINITY;

  constructor(limits: SendRateLimits, now: number) {
    this.#limits = limits;
    this.#windowStart = now;
  }

  /** The client's own ask (one of SEND_RATES). */
  ask(hz: number): void {
    this.#asked = hz;
  }

  get asked(): number {
    return this.#asked;
  }

  /** Rungs the server has lowered the client by (0 = as fast as asked and allowed). */
  get lowered(): number {
    return this.#lowered;
  }

  /** The rate to send at now, given the server's cap (its send rate setting and the tick rate). */
  hz(cap: number): number {
    return rungAt(Math.min(this.#asked, cap), this.#lowered);
  }

  /** A frame was due for the client with `bufferedBytes` not yet sent. */
  due(bufferedBytes: number): void {
    if (bufferedBytes > this.#limits.backlogBytes) this.#congested = true;
  }

  /** A round-trip sample (the client's own report or a heartbeat pong), ms. */
  rtt(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (ms < this.#bestRttMs) this.#bestRttMs = ms;
    else if (ms > 2 * this.#bestRttMs + this.#limits.rttSlackMs) this.#congested = true;
  }

  /**
   * Closes the judging window if it is over, and steps the rate. Returns the
   * change, if any, for the caller to count. `cap` as for `hz`.
   */
  judge(now: number, cap: number): RateChange | undefined {
    const elapsed = now - this.#windowStart;
    if (elapsed < this.#limits.windowMs) return undefined;
    this.#windowStart = now;
    const congested = this.#congested;
    this.#congested = false;
    const bottom = bottomRung(Math.min(this.#asked, cap));
    if (congested) {
      this.#cleanMs = 0;
      if (now - this.#raisedAt <= 2 * this.#limits.windowMs) {
        this.#backoff = Math.min(this.#backoff * 2, RAISE_BACKOFF_MAX);
      }
      if (this.#lowered >= bottom) return undefined;
      this.#lowered++;
      return { direction: 'down', hz: this.hz(cap) };
    }
    this.#cleanMs += elapsed;
    if (this.#lowered === 0 || this.#cleanMs < this.#limits.raiseAfterMs * this.#backoff) {
      return undefined;
    }
    this.#cleanMs = 0;
    this.#raisedAt = now;
    this.#lowered = Math.min(this.#lowered, bottom) - 1;
    return { direction: 'up', hz: this.hz(cap) };
  }
}

/** The ladder under a cap: the cap itself, then every standard rate below it. */
export function rungs(cap: number): number[] {
  return [cap, ...SEND_RATES.filter((hz) => hz < cap)];
}

/** The lowest rung's index under a cap: how many standard rates lie below it. */
function bottomRung(cap: number): number {
  let below = 0;
  for (const hz of SEND_RATES) if (hz < cap) below++;
  return below;
}

/**
 * rungs(cap)[min(lowered, bottom)] without building the ladder: this runs
 * for every client on every frame. SEND_RATES descend, so the standard
 * rates below the cap are its tail.
 */
export function rungAt(cap: number, lowered: number): number {
  if (lowered === 0) return cap;
  const below = bottomRung(cap);
  if (below === 0) return cap;
  return SEND_RATES[SEND_RATES.length - below + Math.min(lowered, below) - 1];
}

/**
 * Whether a client at `hz` is sent tick `tick` when it was last sent
 * `lastTick`: below the tick rate, on the ticks where tick·hz/tickRate steps
 * up, the same ticks for every client of that rate.
 */
export function isDue(tick: number, lastTick: number, hz: number, tickRate: number): boolean {
  const perTick = hz / tickRate;
  if (perTick >= 1 || lastTick < 0) return true;
  return Math.floor(tick * perTick) !== Math.floor(lastTick * perTick);
}
