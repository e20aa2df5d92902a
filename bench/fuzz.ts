/**
 * `npm run fuzz -- --cases N [--seed S] [--workers W]`: the socket fuzz
 * property of test/fuzz/message-path.test.ts for long runs, against real
 * server processes (bench/fuzz-server.ts), so a crash is a process exit.
 * Each of W runners has its own server, its own bystander (a player in
 * its own lobby, which must keep >= 55 frames/s) and seed S+i, and takes
 * its share of the N cases. Prints progress and throughput; on a failure
 * prints the shrunk case, the server's last output and the command that
 * replays it, and exits 1. Bad options exit 2 with one line.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { LobbyClient, type SocketLike } from '../protocol/index.js';
import type { FuzzLimits } from '../test/fuzz/arbitraries.js';
import { checkCase, type FuzzTarget, ShrinkFocus } from '../test/fuzz/case-runner.js';
import { caseArbitrary, type FuzzCase } from '../test/fuzz/fuzz-case.js';
import { intOption, parseOptions, runMain, UsageError } from './cli-options.js';
import { FuzzServer } from './fuzz-server.js';

const USAGE = `Usage: npm run fuzz -- [--cases N] [--seed S] [--workers W] [--path P] [--dist]

Fuzzes the client message path of real swarmhost processes over WebSockets
on 127.0.0.1 and checks, case by case: every connection ends open or with a
documented close code, close reasons fit in 123 bytes, every reply decodes,
error codes are known, the server stays up and /healthz answers 200; and
over the run, a bystander in another lobby gets >= 55 frames/s.

  --cases N     cases in all, split over the workers (default 1000; 1..100000000)
  --seed S      seed of worker 0; worker i uses S+i (default: random, printed;
                -2147483648..2147483647 less W)
  --workers W   fuzz runners, each with its own server process (default 1; 1..16)
  --path P      replay one case: the path printed with a failure (needs its --seed, --workers 1)
  --dist        run dist/src/main.js (after npm run build) instead of src/main.ts via tsx
  --min-fps F   the bystander's floor over the run (default 55; 0..240; 0 turns
                the check off)
  -h, --help    this text

The servers take SWARMHOST_* settings from the environment; unless set there,
lobbies start with 200 particles, cap at 1000, queue 64 inputs, and log at warn.`;

interface Options {
  cases: number;
  seed: number;
  workers: number;
  path: string | undefined;
  dist: boolean;
  minFps: number;
}

function readFuzzOptions(argv: string[]): Options | undefined {
  const values = parseOptions(argv, {
    cases: { type: 'string' },
    seed: { type: 'string' },
    workers: { type: 'string' },
    path: { type: 'string' },
    dist: { type: 'boolean' },
    'min-fps': { type: 'string' },
  });
  if (values.help) return undefined;
  const workers = intOption(values, 'workers', 1, 1, 16);
  const path = values.path;
  if (path !== undefined && (typeof path !== 'string' || !/^\d+(:\d+)*$/.test(path)))
    throw new UsageError(`--path must look like 12:0:3 (from a failure report), got '${path}'`);
  if (path !== undefined && (values.seed === undefined || workers !== 1))
    throw new UsageError(
      '--path replays one case: give the --seed it was printed with and --workers 1',
    );
  return {
    cases: intOption(values, 'cases', 1000, 1, 100_000_000),
    seed: intOption(
      values,
      'seed',
      (Date.now() ^ (Math.random() * 2 ** 31)) | 0,
      -(2 ** 31),
      2 ** 31 - 1 - workers,
    ),
    workers,
    path,
    dist: values.dist === true,
    minFps: intOption(values, 'min-fps', 55, 0, 240),
  };
}

const SERVER_ENV: Record<string, string> = {
  SWARMHOST_DEFAULT_PARTICLES: '200',
  SWARMHOST_MAX_PARTICLES: '1000',
  SWARMHOST_INBOX_CAPACITY: '64',
  SWARMHOST_LOG_LEVEL: 'warn',
};

const RUNNER_OPTIONS = { lobbyPrefix: 'fuzz', faultGraceMs: 250 };
const progress = { cases: 0, messages: 0 };

interface RunnerResult {
  index: number;
  seed: number;
  cases: number;
  details: fc.RunDetails<[FuzzCase]>;
  server: FuzzServer;
  bystanderFps: number;
}

/** A well-behaved player in its own lobby on `server`, counting frames. */
async function joinBystander(http: string): Promise<LobbyClient> {
  const socket = new WebSocket(`${http.replace(/^http/, 'ws')}/lobby/bystander/ws`);
  const client = new LobbyClient(socket as unknown as SocketLike);
  const deadline = Date.now() + 5000;
  while (client.frames < 3) {
    if (client.closeCode !== undefined || Date.now() > deadline)
      throw new Error(`the bystander got no frames (close ${client.closeCode ?? 'none'})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return client;
}

async function limitsOf(http: string): Promise<FuzzLimits> {
  const res = await fetch(`${http}/config`);
  const { config } = (await res.json()) as { config: FuzzLimits };
  return {
    maxMessageBytes: config.maxMessageBytes,
    worldSize: config.worldSize,
    maxSpawn: config.maxSpawn,
  };
}

async function runWorker(
  index: number,
  options: Options,
  cases: number,
  server: FuzzServer,
): Promise<RunnerResult> {
  await server.ensure();
  const limits = await limitsOf(server.http);
  let bystander = await joinBystander(server.http);
  let frames0 = bystander.frames;
  let since = performance.now();
  const seed = options.seed + index;
  let lastFailed = false;
  const focus = new ShrinkFocus();
  const details = await fc.check(
    fc.asyncProperty(caseArbitrary(limits), async (fuzzCase) => {
      const target = await server.ensure(lastFailed);
      lastFailed = true;
      if (server.starts > 1 && bystander.closeCode !== undefined) {
        // Shrinking after a crash: a fresh server needs a fresh bystander.
        bystander = await joinBystander(target.http);
        frames0 = bystander.frames;
        since = performance.now();
      }
      const watched: FuzzTarget = {
        http: target.http,
        fault: () =>
          target.fault() ??
          (bystander.closeCode !== undefined
            ? `the bystander was closed with ${bystander.closeCode}`
            : undefined),
      };
      progress.cases++;
      progress.messages += await checkCase(watched, fuzzCase, RUNNER_OPTIONS, focus);
      lastFailed = false;
    }),
    { numRuns: cases, seed, path: options.path, includeErrorInReport: true },
  );
  const bystanderFps = ((bystander.frames - frames0) * 1000) / (performance.now() - since);
  bystander.close();
  return { index, seed, cases, details, server, bystanderFps };
}

function pickSwarmhostEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (key.startsWith('SWARMHOST_') && value !== undefined) env[key] = value;
  return env;
}

async function report(result: RunnerResult, options: Options): Promise<void> {
  const { details } = result;
  // A dead server's last words may still be in the pipe.
  if (result.server.crashes > 0) await new Promise((resolve) => setTimeout(resolve, 300));
  console.error(`\nworker ${result.index} (seed ${result.seed}): FAILED`);
  console.error(fc.defaultReportMessage(details) ?? '');
  if (result.server.crashes > 0) {
    console.error(
      `\nThe server process died ${result.server.crashes} time(s) in this run (each time restarted to go on).` +
        ' What the last one printed last:',
    );
    console.error(result.server.lastCrashOutput || '(nothing)');
  }
  const dist = options.dist ? ' --dist' : '';
  console.error(
    `\nReplay: npm run fuzz -- --seed ${details.seed} --cases ${result.cases} --workers 1` +
      ` --path ${details.counterexamplePath ?? ''}${dist}`,
  );
}

async function main(): Promise<number> {
  const options = readFuzzOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const shares = Array.from(
    { length: options.workers },
    (_, i) =>
      Math.floor(options.cases / options.workers) + (i < options.cases % options.workers ? 1 : 0),
  );
  console.log(
    `fuzz: ${options.cases} cases, ${options.workers} worker(s), seed ${options.seed}` +
      `${options.path ? `, replaying path ${options.path}` : ''}, server from ${options.dist ? 'dist' : 'src via tsx'}`,
  );
  const started = performance.now();
  const ticker = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    console.log(
      `  ${s.toFixed(0)} s: ${progress.cases} cases (${(progress.cases / s).toFixed(0)}/s), ` +
        `${progress.messages} messages (${(progress.messages / s).toFixed(0)}/s)`,
    );
  }, 5000);
  const servers = shares.map(
    () => new FuzzServer({ dist: options.dist, env: { ...SERVER_ENV, ...pickSwarmhostEnv() } }),
  );
  const stopAll = () => {
    for (const server of servers) server.stop();
  };
  process.once('SIGINT', () => {
    stopAll();
    process.exit(130);
  });
  try {
    const results = await Promise.all(
      shares.map(async (share, i) => {
        const result = await runWorker(i, options, share, servers[i]);
        // One failure is enough: report it now, the other runners are cut short.
        if (result.details.failed) {
          await report(result, options);
          clearInterval(ticker);
          stopAll();
          process.exit(1);
        }
        return result;
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const fps = Math.min(...results.map((r) => r.bystanderFps));
    console.log(
      `passed: ${progress.cases} cases, ${progress.messages} messages in ${seconds.toFixed(1)} s: ` +
        `${(progress.cases / seconds).toFixed(1)} cases/s, ${(progress.messages / seconds).toFixed(0)} messages/s; ` +
        `slowest bystander ${fps.toFixed(1)} frames/s`,
    );
    if (fps < options.minFps) {
      console.error(`FAILED: a bystander got ${fps.toFixed(1)} frames/s, below ${options.minFps}`);
      return 1;
    }
    return 0;
  } finally {
    clearInterval(ticker);
    stopAll();
  }
}

runMain('fuzz', main);
