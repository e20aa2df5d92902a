/**
 * When the page reports its experience: one `stats` message every
 * STATS_REPORT_INTERVAL_MS while a socket is live, none between sockets,
 * and the first of a new socket a full window after its welcome (the
 * meter restarts then, so no window spans two sockets). It owns the timer
 * and remembers the last report for the HUD and the debug snapshot; what is
 * in a report is the meter's business, the socket the connection's.
 */
import { STATS_REPORT_INTERVAL_MS, type StatsReport } from '../../protocol/index.js';

export interface ReporterTimers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface StatsReporterOptions {
  /** Closes the current window and gives its report. */
  report: () => StatsReport;
  /** Sends a report on the live socket; false when there is none. */
  send: (report: StatsReport) => boolean;
  timers?: ReporterTimers;
  intervalMs?: number;
}

const browserTimers: ReporterTimers = {
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

export class StatsReporter {
  readonly #options: StatsReporterOptions;
  readonly #timers: ReporterTimers;
  #timer: unknown;
  #last: StatsReport | undefined;
  #sent = 0;

  constructor(options: StatsReporterOptions) {
    this.#options = options;
    this.#timers = options.timers ?? browserTimers;
  }

  /** The last report sent (undefined before the first). */
  get last(): StatsReport | undefined {
    return this.#last;
  }

  /** Reports sent, over every socket. */
  get sent(): number {
    return this.#sent;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** A socket was welcomed (the caller restarted the meter): report every interval from now. */
  start(): void {
    this.stop();
    this.#timer = this.#timers.setInterval(
      () => this.#tick(),
      this.#options.intervalMs ?? STATS_REPORT_INTERVAL_MS,
    );
  }

  /** The socket is gone: nothing is reported until the next welcome. */
  stop(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const report = this.#options.report();
    if (!this.#options.send(report)) return;
    this.#last = report;
    this.#sent++;
  }
}
