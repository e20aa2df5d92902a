/**
 * The server under `npm run fuzz`: a real swarmhost process per fuzz
 * runner, so a crash is a process exit that cannot be mistaken for
 * anything else, and is pinned on the one runner whose case caused it.
 * Owns spawning (tsx on src/main.ts, or dist/src/main.js), the last lines
 * of its output for the crash report, and restarting it when a case finds
 * it dead (fast-check re-runs cases while it shrinks a failure).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from './free-port.js';
import type { FuzzTarget } from '../test/fuzz/case-runner.js';
import { killWithParent } from './child-processes.js';
import { UsageError } from './cli-options.js';
import { serverEntryArgs } from './server-process.js';

const START_TIMEOUT_MS = 20_000;
const OUTPUT_LINES_KEPT = 30;
const CRASH_LINES_KEPT = 16;
/** Output lines are cut to this: error logs carry whole stacks. */
const OUTPUT_LINE_CHARS = 240;
/** How long a server that stopped answering gets to exit by itself. */
const EXIT_WAIT_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FuzzServerOptions {
  /** Run dist/src/main.js (after `npm run build`) instead of src/main.ts through tsx. */
  dist: boolean;
  /** Settings for the server; the rest of SWARMHOST_* comes from the environment. */
  env: Record<string, string>;
}

export class FuzzServer {
  readonly #options: FuzzServerOptions;
  #child: ChildProcess | undefined;
  #http = '';
  #exit: string | undefined;
  #output: string[] = [];
  #starts = 0;
  #crashes = 0;
  /** Output of the last process that died. */
  #lastCrash: string[] = [];
  #stopping = false;

  constructor(options: FuzzServerOptions) {
    this.#options = options;
  }

  /** Times the process was started (1 + restarts after crashes). */
  get starts(): number {
    return this.#starts;
  }

  get http(): string {
    return this.#http;
  }

  /** The target for the case runner; its fault() is the exit of this very process. */
  target(): FuzzTarget {
    const http = this.#http;
    const child = this.#child;
    return {
      http,
      fault: () => (child === this.#child ? this.#exit : 'server replaced'),
    };
  }

  /** Last lines the current process printed (stdout and stderr). */
  outputTail(): string {
    return this.#output.join('\n');
  }

  /** Times a server process died on its own during the run. */
  get crashes(): number {
    return this.#crashes;
  }

  /** What the last process that died printed last (its stack trace, for an uncaught exception). */
  get lastCrashOutput(): string {
    return this.#lastCrash.slice(-CRASH_LINES_KEPT).join('\n');
  }

  /** Why the current process is gone, if it is. */
  get exitReason(): string | undefined {
    return this.#exit;
  }

  /**
   * Starts the server if it is not running (first call, or after a crash).
   * With `verify` (after a failed case) it first makes sure the process is
   * alive and answering: a case must never start against a server that is
   * already dying, or shrinking would blame it for the previous case.
   */
  async ensure(verify = false): Promise<FuzzTarget> {
    if (verify && this.#child && this.#exit === undefined && !(await this.#healthy())) {
      const deadline = Date.now() + EXIT_WAIT_MS;
      while (this.#exit === undefined && Date.now() < deadline) await sleep(20);
      if (this.#exit === undefined) {
        this.#exit = 'server stopped answering /healthz (killed)';
        this.#child.kill('SIGKILL');
      }
    }
    if (!this.#child || this.#exit !== undefined) await this.#start();
    return this.target();
  }

  async #healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.#http}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  stop(): void {
    this.#stopping = true;
    this.#child?.kill('SIGKILL');
  }

  async #start(): Promise<void> {
    this.#starts++;
    this.#exit = undefined;
    const port = await freePort();
    const entry = serverEntryArgs(this.#options.dist);
    if (this.#options.dist && !existsSync('dist/src/main.js'))
      throw new UsageError('dist/src/main.js is missing: run `npm run build` first');
    // Killed with this process too, if it exits on a path that skips stop().
    const child = killWithParent(
      spawn(process.execPath, [...entry, '--host', '127.0.0.1', '--port', String(port)], {
        env: { ...process.env, ...this.#options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    this.#child = child;
    this.#http = `http://127.0.0.1:${port}`;
    // One buffer per process: a crashed one's is kept by reference, since its
    // stderr can still be arriving after 'exit'.
    const own: string[] = [`--- server start ${this.#starts}, pid ${child.pid}, port ${port}`];
    this.#output = own;
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line === '') continue;
        own.push(line.length > OUTPUT_LINE_CHARS ? `${line.slice(0, OUTPUT_LINE_CHARS)}…` : line);
      }
      if (own.length > OUTPUT_LINES_KEPT) own.splice(0, own.length - OUTPUT_LINES_KEPT);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('exit', (code, signal) => {
      const how = signal ? `signal ${signal}` : `code ${code}`;
      own.push(`--- server pid ${child.pid} exited (${how})`);
      if (child !== this.#child || this.#stopping) return;
      this.#exit = `server process exited (${how})`;
      this.#crashes++;
      this.#lastCrash = own;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.#exit) throw new Error(`${this.#exit} while starting:\n${this.outputTail()}`);
      if (await this.#healthy()) return;
      await sleep(50);
    }
    child.kill('SIGKILL');
    throw new Error(`server did not answer /healthz within ${START_TIMEOUT_MS} ms`);
  }
}
