/**
 * The line that shows a run as it goes: on a terminal one line rewritten in
 * place every second; elsewhere (CI, a file) a line every 10 seconds, so
 * the log stays readable.
 */
export interface ProgressRow {
  elapsedS: number;
  step: number;
  lobbies: number;
  clients: number;
  live: number;
  fps: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  tickP99Ms: number;
  serverCpu: number;
  botCpu: number;
}

const fixed = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toFixed(digits) : '-';

export function formatProgress(row: ProgressRow): string {
  return [
    `[${String(Math.round(row.elapsedS)).padStart(4)} s]`,
    `step ${row.step}`,
    `lobbies ${row.lobbies}`,
    `clients ${row.live}/${row.clients}`,
    `fps ${fixed(row.fps, 1)}`,
    `latency p50 ${fixed(row.latencyP50Ms, 1)} p99 ${fixed(row.latencyP99Ms, 1)} ms`,
    `tick p99 ${fixed(row.tickP99Ms, 1)} ms`,
    `cpu server ${fixed(row.serverCpu, 0)}% bots ${fixed(row.botCpu, 0)}%`,
  ].join('  ');
}

export class ProgressLine {
  #tty: boolean;
  #stream: NodeJS.WriteStream;
  #lastPrinted = Number.NEGATIVE_INFINITY;
  #open = false;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
  }

  update(row: ProgressRow): void {
    const text = formatProgress(row);
    if (this.#tty) {
      const width = this.#stream.columns ?? 160;
      this.#stream.write(
        `\r${text.slice(0, width - 1).padEnd(Math.min(width - 1, text.length))}\x1b[K`,
      );
      this.#open = true;
    } else if (row.elapsedS - this.#lastPrinted >= 10) {
      this.#stream.write(`${text}\n`);
      this.#lastPrinted = row.elapsedS;
    }
  }

  /** A line of its own (a step's verdict), without garbling the progress line. */
  note(text: string): void {
    this.done();
    this.#stream.write(`${text}\n`);
  }

  /** Ends the rewritten line so what follows starts on its own. */
  done(): void {
    if (this.#open) this.#stream.write('\n');
    this.#open = false;
  }
}
