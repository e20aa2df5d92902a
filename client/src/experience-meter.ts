/**
 * The player's experience as this page has it, measured per report window:
 * frames drawn per second, frames received, ticks no received frame carried,
 * mean decode time, the latest ping's round trip, the interpolation buffer
 * (how far the drawn state lags the newest frame) and the age of the state
 * being drawn (draw time minus the server's `sent` time of that state,
 * corrected by the clock offset the pings measure). `report()` closes a
 * window as a StatsReport within the protocol's ranges and opens the next;
 * `restart()` starts afresh for a new socket. Pure: the clock is injected.
 */
import { STATS_FIELDS, type StatsReport } from '../../protocol/index.js';

export interface ExperienceMeterOptions {
  /** Monotonic ms (performance.now() in the page). */
  now: () => number;
  /** Epoch ms at now() = 0 (performance.timeOrigin): maps local times onto the wall clock. */
  timeOrigin: number;
}

/** What a ping told, in the meter's local ms: when it left, when its pong came, the server's clock then. */
export interface ClockSample {
  sentAt: number;
  receivedAt: number;
  serverTime: number;
}

/**
 * Ticks whose send times are kept: the playout delay (at most 2 s, 120
 * ticks at 60 Hz) plus jitter is well inside, so the drawn tick is always
 * bracketed by frames we saw.
 */
const SENT_HISTORY = 256;
/**
 * Pings the clock offset is chosen from (one every 2 s: the last 16 s). The
 * one with the lowest round trip had the least room for asymmetric delay,
 * so its midpoint estimate is the tightest; older ones are dropped so a
 * drifting clock is followed.
 */
const RECENT_PINGS = 8;

export class ExperienceMeter {
  readonly #now: () => number;
  readonly #timeOrigin: number;
  #msPerTick = 1000 / 60;
  // Window: since the last report (or restart).
  #windowStart = 0;
  #draws = 0;
  #received = 0;
  #skipped = 0;
  #decodeMsSum = 0;
  #ageSum = 0;
  #ageCount = 0;
  #bufferSum = 0;
  #bufferCount = 0;
  // Session: since the last restart.
  #lastTick = -1;
  readonly #ticks = new Float64Array(SENT_HISTORY);
  readonly #sents = new Float64Array(SENT_HISTORY);
  /** Entries in the ring; the newest is at #head - 1. */
  #held = 0;
  #head = 0;
  #pings: { rttMs: number; offsetMs: number }[] = [];
  #rttMs = Number.NaN;
  #ageMs = Number.NaN;

  constructor(options: ExperienceMeterOptions) {
    this.#now = options.now;
    this.#timeOrigin = options.timeOrigin;
    this.#windowStart = this.#now();
  }

  /** A new socket (welcomed at `tickRate`): its ticks, clock and window start afresh. */
  restart(tickRate: number): void {
    this.#msPerTick = 1000 / tickRate;
    this.#lastTick = -1;
    this.#held = 0;
    this.#head = 0;
    // Another socket may reach another instance, with its own clock.
    this.#pings = [];
    this.#rttMs = Number.NaN;
    this.#ageMs = Number.NaN;
    this.#openWindow();
  }

  /** A frame of `tick`, sent by the server at `sent` (its epoch ms), decoded in `decodeMs`. */
  frame(tick: number, sent: number, decodeMs: number): void {
    this.#received++;
    if (Number.isFinite(decodeMs)) this.#decodeMsSum += decodeMs;
    if (tick <= this.#lastTick) return;
    // Ticks count server steps: a jump is ticks we got no frame for.
    if (this.#lastTick >= 0) this.#skipped += tick - this.#lastTick - 1;
    this.#lastTick = tick;
    if (!Number.isFinite(sent)) return;
    this.#ticks[this.#head] = tick;
    this.#sents[this.#head] = sent;
    this.#head = (this.#head + 1) % SENT_HISTORY;
    this.#held = Math.min(SENT_HISTORY, this.#held + 1);
  }

  /** A ping's answer: the latest round trip, and a clock offset estimate. */
  pong(sample: ClockSample): void {
    const rttMs = sample.receivedAt - sample.sentAt;
    if (!(rttMs >= 0) || !Number.isFinite(sample.serverTime)) return;
    this.#rttMs = rttMs;
    // The server read its clock somewhere in the round trip: the midpoint
    // is off by at most half the round trip.
    const midpoint = this.#timeOrigin + (sample.sentAt + sample.receivedAt) / 2;
    this.#pings.push({ rttMs, offsetMs: sample.serverTime - midpoint });
    if (this.#pings.length > RECENT_PINGS) this.#pings.shift();
  }

  /** The page drew the state at (fractional) server tick `renderTick`, now; NaN: nothing to draw yet. */
  drawn(renderTick: number): void {
    this.#draws++;
    this.#ageMs = Number.NaN;
    if (!Number.isFinite(renderTick) || this.#held === 0) return;
    const newest = this.#ticks[(this.#head + SENT_HISTORY - 1) % SENT_HISTORY];
    this.#bufferSum += Math.max(0, newest - renderTick) * this.#msPerTick;
    this.#bufferCount++;
    const offset = this.clockOffsetMs;
    if (Number.isNaN(offset)) return;
    // Now on the server's clock, minus when the server sent what we drew.
    this.#ageMs = this.#timeOrigin + this.#now() + offset - this.#sentAt(renderTick);
    this.#ageSum += this.#ageMs;
    this.#ageCount++;
  }

  /** Server clock minus ours, ms, from the lowest-RTT recent ping; NaN before any. */
  get clockOffsetMs(): number {
    let best: { rttMs: number; offsetMs: number } | undefined;
    for (const ping of this.#pings) if (!best || ping.rttMs < best.rttMs) best = ping;
    return best?.offsetMs ?? Number.NaN;
  }

  /** Age of the state drawn last (clock-corrected), ms; NaN when unknown. */
  get ageMs(): number {
    return this.#ageMs;
  }

  /** The latest ping's round trip this session, ms; NaN before any. */
  get rttMs(): number {
    return this.#rttMs;
  }

  /** Closes the window: its report (clamped to the protocol's ranges), and a fresh window. */
  report(): StatsReport {
    const seconds = (this.#now() - this.#windowStart) / 1000;
    const report: StatsReport = {
      fps: clamp('fps', seconds > 0 ? this.#draws / seconds : 0),
      received: clamp('received', this.#received),
      skipped: clamp('skipped', this.#skipped),
      decodeMs: clamp('decodeMs', this.#received > 0 ? this.#decodeMsSum / this.#received : 0),
    };
    // Optional fields we could not measure in this window are left out.
    if (!Number.isNaN(this.#rttMs)) report.rttMs = clamp('rttMs', this.#rttMs);
    if (this.#bufferCount > 0)
      report.bufferMs = clamp('bufferMs', this.#bufferSum / this.#bufferCount);
    if (this.#ageCount > 0) report.latencyMs = clamp('latencyMs', this.#ageSum / this.#ageCount);
    this.#openWindow();
    return report;
  }

  #openWindow(): void {
    this.#windowStart = this.#now();
    this.#draws = 0;
    this.#received = 0;
    this.#skipped = 0;
    this.#decodeMsSum = 0;
    this.#ageSum = 0;
    this.#ageCount = 0;
    this.#bufferSum = 0;
    this.#bufferCount = 0;
  }

  /** When the server sent the state of `tick`: between the two frames around it, or extrapolated at the nominal rate. */
  #sentAt(tick: number): number {
    const at = (k: number) => (this.#head + SENT_HISTORY - 1 - k) % SENT_HISTORY;
    let newer = at(0);
    if (tick >= this.#ticks[newer])
      return this.#sents[newer] + (tick - this.#ticks[newer]) * this.#msPerTick;
    for (let k = 1; k < this.#held; k++) {
      const older = at(k);
      const t0 = this.#ticks[older];
      if (t0 <= tick) {
        const t1 = this.#ticks[newer];
        const s0 = this.#sents[older];
        return s0 + ((this.#sents[newer] - s0) * (tick - t0)) / (t1 - t0);
      }
      newer = older;
    }
    return this.#sents[newer] - (this.#ticks[newer] - tick) * this.#msPerTick;
  }
}

/** Into the field's protocol range: [0, max], whole where it must be. */
function clamp(name: keyof StatsReport, value: number): number {
  const field = STATS_FIELDS[name];
  const bounded = Math.min(field.max, Math.max(0, Number.isFinite(value) ? value : 0));
  return field.integer ? Math.round(bounded) : bounded;
}
