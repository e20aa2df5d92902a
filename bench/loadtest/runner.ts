/**
 * The ramp: step by step, add bots to reach the step's load, let it settle,
 * measure the rest of the step (bots through the pool, servers through
 * /metrics, a row every second), judge it against the --until limits, and
 * stop at the first step that breaks one, at --duration, on an error or on
 * an interrupt. Whatever happened, it returns the result so far.
 */
import { availableParallelism } from 'node:os';
import { BotPool, type PoolSample } from './bot-pool.js';
import type { BotSpec } from './bot-protocol.js';
import { clientWindow } from './client-window.js';
import {
  addEncoded,
  type LatencyHistogram,
  newLatencyHistogram,
  percentileMs,
} from './latency-histogram.js';
import type { LoadtestOptions } from './options.js';
import type { ProgressLine } from './progress.js';
import { type Load, stepLoad } from './ramp.js';
import type { Ceiling, LoadtestResult, SecondRow, StepRow } from './result.js';
import {
  loopLagP99Ms,
  type ServerScrape,
  type ServerWindow,
  scrape,
  serverWindow,
} from './server-probe.js';
import { describeFetchError, type Target } from './target.js';
import { brokenLimits, type StepMeasures } from './until.js';

/** A server that leaves /metrics unanswered this long is past its limit: the step breaks. */
const SCRAPE_TIMEOUT_MS = 10_000;
export const UNANSWERED_LIMIT = `/metrics unanswered for ${SCRAPE_TIMEOUT_MS / 1000} s`;

interface Moment {
  at: number;
  pool: PoolSample;
  /** Undefined when a server did not answer /metrics within SCRAPE_TIMEOUT_MS (overloaded). */
  server: ServerScrape | undefined;
  cpu: NodeJS.CpuUsage;
  /** Latencies recorded since the previous moment. */
  latency: LatencyHistogram;
}

export async function runLoadtest(
  options: LoadtestOptions,
  target: Target,
  progress: ProgressLine,
  signal: AbortSignal,
): Promise<LoadtestResult> {
  const startedAt = new Date();
  const pool = new BotPool(options.workers);
  const lobbies: string[] = [];
  const botsIn: number[] = [];
  const steps: StepRow[] = [];
  const seconds: SecondRow[] = [];
  let stoppedBy: LoadtestResult['stoppedBy'] = 'duration';
  let error: string | undefined;
  const start: Load = { lobbies: options.lobbies, clientsPerLobby: options.clients };
  const stepS = options.ramp ? options.ramp.everyS : options.durationS;
  const t0 = performance.now();
  const elapsedS = () => (performance.now() - t0) / 1000;

  const grow = async (load: Load): Promise<void> => {
    while (lobbies.length < load.lobbies) {
      const id = `${options.lobbyPrefix}-${lobbies.length}`;
      await target.createLobby(id);
      lobbies.push(id);
      botsIn.push(0);
    }
    const specs: BotSpec[] = [];
    for (let j = 0; j < load.lobbies; j++) {
      for (; botsIn[j] < load.clientsPerLobby; botsIn[j]++) {
        const decode = options.decode === undefined || pool.size + specs.length < options.decode;
        specs.push({ url: target.lobbyUrl(lobbies[j]), decode, rate: options.sendRate });
      }
    }
    pool.add(specs);
  };

  const moment = async (): Promise<Moment> => {
    const [poolSample, server] = await Promise.all([
      pool.sample(),
      scrape(target.metricsUrls, SCRAPE_TIMEOUT_MS).catch(() => undefined),
    ]);
    const latency = newLatencyHistogram();
    for (const worker of poolSample.workers) addEncoded(latency, worker.latency);
    return { at: performance.now(), pool: poolSample, server, cpu: process.cpuUsage(), latency };
  };

  try {
    let previous = await moment();
    for (let index = 0; ; index++) {
      const load = stepLoad(start, options.ramp, index);
      const stepStart = elapsedS();
      const remaining = options.durationS - stepStart;
      if (index > 0 && remaining < options.settleS + 2) break;
      await grow(load);
      const stepEnd = stepStart + Math.min(stepS, remaining);
      const window: Moment[] = [];
      while (elapsedS() < stepEnd - 0.05 && !signal.aborted) {
        await sleepUntil(t0 + Math.ceil(elapsedS() + 0.05) * 1000, signal);
        const now = await moment();
        const row = secondRow(previous, now, elapsedS(), index, load, pool.size);
        seconds.push(row);
        progress.update({ ...row, elapsedS: row.t });
        if (elapsedS() - stepStart >= options.settleS) window.push(now);
        previous = now;
      }
      if (window.length < 2) {
        if (signal.aborted) stoppedBy = 'interrupted';
        break;
      }
      const step = judgeStep(options, index, load, pool.size, window, t0);
      steps.push(step);
      progress.note(describeStep(step));
      // A step judged whole that broke a limit ended the run, signal or not.
      if (step.broken.length > 0) {
        stoppedBy = 'limit';
        break;
      }
      if (signal.aborted) {
        stoppedBy = 'interrupted';
        break;
      }
      if (!options.ramp) break;
    }
  } catch (caught) {
    stoppedBy = 'error';
    error = describeFetchError(caught);
  } finally {
    progress.done();
    await pool.stop();
  }
  const ceiling = findCeiling(steps);
  return {
    tool: 'swarmhost loadtest',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    target: { url: target.url, metrics: target.metricsUrls, local: target.local },
    settings: {
      lobbies: options.lobbies,
      clients: options.clients,
      particles: options.particles ?? null,
      sendRate: options.sendRate ?? null,
      decode: options.decode ?? null,
      ramp: options.ramp ?? null,
      until: options.until,
      durationS: options.durationS,
      settleS: options.settleS,
      workers: options.workers,
    },
    machine: { cores: availableParallelism(), node: process.version, platform: process.platform },
    stoppedBy,
    ...(error === undefined ? {} : { error }),
    ceiling,
    halfCeiling: halfCeilingStep(steps, ceiling),
    steps,
    seconds,
  };
}

function secondRow(
  before: Moment,
  after: Moment,
  t: number,
  step: number,
  load: Load,
  clients: number,
): SecondRow {
  const bots = clientWindow(before.pool, after.pool);
  const server =
    before.server && after.server ? serverWindow(before.server, after.server) : NO_SERVER;
  return {
    t: round(t, 1),
    step,
    lobbies: load.lobbies,
    clients,
    live: bots.live,
    fps: bots.fpsMean,
    fpsP5: bots.fpsP5,
    latencyP50Ms: percentileMs(after.latency, 50),
    latencyP99Ms: percentileMs(after.latency, 99),
    bytesPerClientPerS: bots.bytesPerClientPerS,
    tickP50Ms: server.tickP50Ms,
    tickP99Ms: server.tickP99Ms,
    tickRate: server.tickRate,
    serverCpu: server.cpuPercent,
    serverRssMiB: server.rssMiB,
    skippedPerS: server.skippedPerS,
    loopLagP99Ms: server.loopLagP99Ms,
    botCpu: cpuPercent(before, after),
  };
}

/** The step's measurements over its settled window (first to last moment in it). */
function judgeStep(
  options: LoadtestOptions,
  index: number,
  load: Load,
  clients: number,
  window: Moment[],
  t0: number,
): StepRow {
  const first = window[0];
  const last = window[window.length - 1];
  const bots = clientWindow(first.pool, last.pool);
  // The server's measures span the moments it answered at.
  const answered = window.filter((m) => m.server !== undefined);
  const server =
    answered.length >= 2
      ? serverWindow(answered[0].server!, answered[answered.length - 1].server!)
      : NO_SERVER;
  const latency = newLatencyHistogram();
  for (const m of window.slice(1)) latency.add(m.latency);
  const measures: StepMeasures = {
    tick_p50: server.tickP50Ms,
    tick_p99: server.tickP99Ms,
    tick_rate: server.tickRate,
    // A bot still waiting to be let in has 0 fps, but a mean over hundreds hides a few.
    connected: clients > 0 ? (bots.live / clients) * 100 : Number.NaN,
    client_fps: bots.fpsMean,
    client_fps_p5: bots.fpsP5,
    latency_p50: percentileMs(latency, 50),
    latency_p99: percentileMs(latency, 99),
    skipped: bots.bots > 0 ? server.skippedPerS / bots.bots : Number.NaN,
    server_cpu: server.cpuPercent,
    server_rss: server.rssMiB,
    // prom-client's loop delay resets at each scrape: the window's worst second.
    loop_lag_p99: Math.max(...answered.slice(1).map((m) => loopLagP99Ms(m.server!))),
    bot_cpu: cpuPercent(first, last),
  };
  return {
    index,
    load,
    clients,
    fromS: round((first.at - t0) / 1000, 1),
    toS: round((last.at - t0) / 1000, 1),
    measures,
    bytesPerClientPerS: bots.bytesPerClientPerS,
    missedPerS: bots.missedPerS,
    reconnects: bots.reconnects,
    live: bots.live,
    broken: [
      ...brokenLimits(options.until, measures).map((c) => c.text),
      ...(answered.length < window.length ? [UNANSWERED_LIMIT] : []),
    ],
  };
}

const NO_SERVER: ServerWindow = {
  tickP50Ms: Number.NaN,
  tickP99Ms: Number.NaN,
  tickRate: Number.NaN,
  cpuPercent: Number.NaN,
  rssMiB: Number.NaN,
  skippedPerS: Number.NaN,
  loopLagP99Ms: Number.NaN,
};

function findCeiling(steps: StepRow[]): Ceiling {
  const last = steps.at(-1);
  const broke = last && last.broken.length > 0 ? last : undefined;
  const held = [...steps].reverse().find((s) => s.broken.length === 0);
  return {
    reached: broke !== undefined,
    held: held && {
      lobbies: held.load.lobbies,
      clients: held.clients,
      clientsPerLobby: held.load.clientsPerLobby,
    },
    broke: broke && { lobbies: broke.load.lobbies, clients: broke.clients, limits: broke.broken },
  };
}

function halfCeilingStep(steps: StepRow[], ceiling: Ceiling): StepRow | undefined {
  if (!ceiling.held) return undefined;
  const half = ceiling.held.clients / 2;
  const held = steps.filter((s) => s.broken.length === 0);
  return held.reduce<StepRow | undefined>(
    (best, s) =>
      best === undefined || Math.abs(s.clients - half) < Math.abs(best.clients - half) ? s : best,
    undefined,
  );
}

export function describeStep(step: StepRow): string {
  const m = step.measures;
  const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const verdict = step.broken.length === 0 ? 'held' : `BROKE ${step.broken.join(', ')}`;
  return (
    `step ${step.index}: ${step.clients} clients in ${step.load.lobbies} lobb${step.load.lobbies === 1 ? 'y' : 'ies'}: ` +
    `fps ${f(m.client_fps)} (p5 ${f(m.client_fps_p5)}), latency p50 ${f(m.latency_p50)} p99 ${f(m.latency_p99)} ms, ` +
    `tick p99 ${f(m.tick_p99)} ms at ${f(m.tick_rate)} Hz, server ${f(m.server_cpu, 0)}% ${f(m.server_rss, 0)} MiB, ` +
    `bots ${f(m.bot_cpu, 0)}% -> ${verdict}`
  );
}

function cpuPercent(before: Moment, after: Moment): number {
  const used = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
  return (used / 1000 / (after.at - before.at)) * 100;
}

function sleepUntil(at: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, at - performance.now()));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

const round = (value: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};
