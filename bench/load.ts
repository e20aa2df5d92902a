/**
 * `npm run bench:load`: one real server process, one lobby, N real
 * WebSocket clients on loopback, some of which stop reading. The clients
 * run in this process, or on worker threads (load-clients.ts) when one
 * event loop cannot read as fast as the server sends.
 *
 * Reports what a player and an operator care about: frames per second each
 * reading client gets, bytes per particle on the wire, the server's fan-out
 * time per frame (encode once + an envelope and a send per client), tick
 * time, CPU, and resident memory over the run (flat = slow clients cost
 * bounded memory).
 *
 * It ends by itself: the clients are closed (load-clients.ts), and the
 * server is stopped and waited for.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { SEND_RATES, type SendRate } from '../protocol/index.js';
import { exitOnSignals, stopChild } from './child-processes.js';
import { inProcessClients, type LoadClients, workerClients } from './load-clients.js';
import { optionsHelp, readOptions, runMain, UsageError } from './cli-options.js';
import { histogramQuantile, parseSamples, samplesSince, sum } from './prometheus-text.js';
import { LOOPBACK_CLIENT_CAPS, startServerProcess } from './server-process.js';

const OPTIONS = {
  clients: {
    kind: 'int',
    arg: 'N',
    default: 10,
    min: 1,
    max: 10_000,
    doc: 'WebSocket clients in the lobby',
  },
  slow: {
    kind: 'int',
    arg: 'S',
    default: 0,
    min: 0,
    max: 9_999,
    doc: 'of them, how many stop reading once they have frames; fewer than --clients',
  },
  particles: {
    kind: 'int',
    arg: 'P',
    default: 10_000,
    min: 1,
    max: 1_000_000,
    doc: 'particles in the lobby',
  },
  seconds: {
    kind: 'int',
    arg: 'T',
    default: 10,
    min: 1,
    max: 3600,
    doc: 'length of the measured run',
  },
  decode: {
    kind: 'int',
    arg: 'K',
    default: -1,
    min: -1,
    max: 10_000,
    doc: 'of the reading clients, how many decode particle data (the rest read each frame header only, as cheap bots); -1: all',
  },
  workers: {
    kind: 'int',
    arg: 'W',
    default: 0,
    min: 0,
    max: 64,
    doc: "run the clients on W worker threads (the load generator's bots) instead of in this process; 0: in this process. Not with --slow",
  },
  raw: {
    kind: 'int',
    arg: '0|1',
    default: 0,
    min: 0,
    max: 1,
    doc: 'with 1, the clients that do not decode are raw counting sockets (counting-socket.ts: the handshake, hello, pongs, and each message counted by its first bytes), so a thousand of them fit in this process beside the server; not with --workers',
  },
  rate: {
    kind: 'int',
    arg: 'R',
    default: 60,
    min: 10,
    max: 60,
    doc: `the send rate every client asks for: one of ${SEND_RATES.join(', ')} per second`,
  },
  partitions: {
    kind: 'int',
    arg: 'N',
    default: 1,
    min: 1,
    max: 16,
    doc: "threads the lobby's world is split over: the server gets SWARMHOST_MAX_PARTITIONS=N, N lobby workers and a particle budget of particles / N per worker (the wasm kernel)",
  },
  'steer-budget': {
    kind: 'optionalInt',
    arg: 'B',
    defaultDoc: "the server's",
    min: 0,
    max: 10_000_000,
    doc: 'SWARMHOST_STEER_BUDGET for the server: 0 steers every particle every 2nd step whatever the size',
  },
  compiled: {
    kind: 'int',
    arg: '0|1',
    default: 0,
    min: 0,
    max: 1,
    doc: 'with 1, run the compiled server (dist/, `npm run build` first) as the image does, not the sources through tsx (whose loader takes memory in every thread)',
  },
} as const;

const USAGE = `Usage: npm run bench:load -- [options]

One real server process (from source), one lobby, N real WebSocket clients
on 127.0.0.1, some of which stop reading. Prints the frames per second each
reading client gets, bytes per particle on the wire, the server's fan-out
time per frame, tick time, CPU, and resident memory once a second.

${optionsHelp(OPTIONS)}`;

/** This run's admin token: creating lobbies over REST needs one. */
const ADMIN_TOKEN = randomBytes(16).toString('hex');

function startServer(
  particles: number,
  clients: number,
  partitions: number,
  steerBudget: number | undefined,
  compiled: boolean,
): Promise<{ child: ChildProcess; base: string }> {
  // Split: each of N workers has room for exactly its share, so the lobby
  // cannot fit on fewer (lobby-partitions.ts).
  const budget = partitions > 1 ? Math.ceil(particles / partitions) : Math.max(particles, 100_000);
  return startServerProcess(
    {
      ...(partitions > 1
        ? { SWARMHOST_MAX_PARTITIONS: String(partitions), SWARMHOST_WORKERS: String(partitions) }
        : {}),
      ...(steerBudget === undefined ? {} : { SWARMHOST_STEER_BUDGET: String(steerBudget) }),
      SWARMHOST_MAX_PARTICLES: String(Math.max(particles, 100_000)),
      SWARMHOST_ADMIN_TOKEN: ADMIN_TOKEN,
      // /metrics and POST /lobbies on the one port this script talks to.
      SWARMHOST_ADMIN_PORT: '-1',
      // One lobby of any size: this bench is about fan-out, not admission.
      SWARMHOST_PARTICLE_BUDGET: String(budget),
      // Every client in the one lobby.
      SWARMHOST_MAX_CLIENTS_PER_LOBBY: String(Math.max(clients, 100)),
      ...LOOPBACK_CLIENT_CAPS,
    },
    { logs: 'file', compiled },
  );
}

/** The server's longest event-loop stall since the previous scrape (prom-client resets it on each). */
const LOOP_LAG_MAX = 'nodejs_eventloop_lag_max_seconds';

const scrape = async (base: string) => parseSamples(await (await fetch(`${base}/metrics`)).text());

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), OPTIONS);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const { clients: CLIENTS, slow: SLOW, particles: PARTICLES, seconds: SECONDS } = options.values;
  const { decode: DECODE, rate: RATE, workers: WORKERS, raw: RAW } = options.values;
  const { partitions: PARTITIONS, 'steer-budget': STEER_BUDGET, compiled } = options.values;
  if (WORKERS > 0 && RAW > 0)
    throw new UsageError('--raw 1 needs the clients in this process (--workers 0)');
  if (WORKERS > 0 && SLOW > 0)
    throw new UsageError('--slow needs the clients in this process (--workers 0)');
  if (SLOW >= CLIENTS)
    throw new UsageError(`--slow must be less than --clients (${CLIENTS}), got '${SLOW}'`);
  if (!(SEND_RATES as readonly number[]).includes(RATE))
    throw new UsageError(`--rate must be one of ${SEND_RATES.join(', ')}, got '${RATE}'`);
  exitOnSignals();
  const { child, base } = await startServer(
    PARTICLES,
    CLIENTS,
    PARTITIONS,
    STEER_BUDGET,
    compiled > 0,
  );
  let clients: LoadClients | undefined;
  try {
    const created = await fetch(`${base}/lobbies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ id: 'bench', particles: PARTICLES }),
    });
    if (created.status !== 201)
      throw new Error(`create lobby: ${created.status} ${await created.text()}`);
    const url = base.replace('http', 'ws') + '/lobby/bench/ws';
    // The slow ones are the first SLOW; of the others, the first DECODE decode.
    const decodes = (i: number) => DECODE < 0 || (i >= SLOW && i < SLOW + DECODE);
    const plan = {
      url,
      clients: CLIENTS,
      decodes,
      rate: RATE === 60 ? undefined : (RATE as SendRate),
    };
    await scrape(base); // resets the loop-lag window
    clients =
      WORKERS > 0
        ? await workerClients(plan, WORKERS)
        : inProcessClients(plan, RAW > 0 ? 'raw' : 'ws');
    const connectStart = performance.now();
    clients.start();
    // Connected: every client welcomed and sent its first frame (or closed).
    const deadline = Date.now() + 30_000;
    let connectLagMax = 0;
    let lastScrape = performance.now();
    let counts = await clients.counts();
    const waiting = () => counts.frames.filter((f) => f === 0).length - counts.closed;
    while ((counts.frames.length < CLIENTS || waiting() > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      counts = await clients.counts();
      if (performance.now() - lastScrape > 250) {
        lastScrape = performance.now();
        connectLagMax = Math.max(connectLagMax, sum(await scrape(base), LOOP_LAG_MAX));
      }
    }
    const connectMs = performance.now() - connectStart;
    const unconnected =
      counts.frames.filter((f) => f === 0).length + CLIENTS - counts.frames.length;
    const failed = clients.failed;
    connectLagMax = Math.max(connectLagMax, sum(await scrape(base), LOOP_LAG_MAX));
    clients.pause(SLOW);
    // The reading clients that got a frame: indices into every later count.
    const fast = [...counts.frames.keys()].filter((i) => i >= SLOW && counts.frames[i] > 0);

    const before = await scrape(base);
    const start = Date.now();
    const clientCpu0 = process.cpuUsage();
    const at0 = await clients.counts();
    const frames0 = fast.map((i) => at0.frames[i]);
    const bytes0 = fast.map((i) => at0.bytes[i]);
    const rss: number[] = [];
    let runLagMax = 0;
    for (let s = 0; s < SECONDS; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      const samples = await scrape(base);
      rss.push(sum(samples, 'process_resident_memory_bytes') / 2 ** 20);
      runLagMax = Math.max(runLagMax, sum(samples, LOOP_LAG_MAX));
    }
    const at1 = await clients.counts();
    const elapsed = (Date.now() - start) / 1000;
    // This process is the clients (and their worker threads): when it nears
    // a core per thread, the clients are the limit, not the server.
    const clientCpu = process.cpuUsage(clientCpu0);
    const after = await scrape(base);
    const framesIn = fast.map((c, i) => at1.frames[c] - frames0[i]);
    const bytesIn = fast.map((c, i) => at1.bytes[c] - bytes0[i]);
    const delta = (name: string, filter: Record<string, string> = {}) =>
      sum(after, name, filter) - sum(before, name, filter);
    const fps = framesIn.map((f) => f / elapsed);
    const wireBytesPerParticle = sumOf(bytesIn) / sumOf(framesIn) / PARTICLES;
    const ticks = delta('swarmhost_tick_duration_seconds_count');
    const fanoutMean =
      (delta('swarmhost_fanout_duration_seconds_sum') /
        delta('swarmhost_fanout_duration_seconds_count')) *
      1000;
    const fanoutPerSendUs =
      (delta('swarmhost_fanout_duration_seconds_sum') / delta('swarmhost_frames_sent_total')) * 1e6;
    const bytesPerClientPerS = sumOf(bytesIn) / fast.length / elapsed;

    console.log(
      `# bench:load  ${CLIENTS} clients (${SLOW} not reading, ${DECODE < 0 ? 'all' : DECODE} decoding, asking ${RATE}/s, ${WORKERS > 0 ? `on ${WORKERS} worker thread${WORKERS === 1 ? '' : 's'}` : `in the bench process${RAW > 0 ? ', the others raw' : ''}`}), ${PARTICLES} particles, ${SECONDS} s`,
    );
    console.log(
      `connect:                        ${(connectMs / 1000).toFixed(2)} s for ${CLIENTS} clients to get their first frame${unconnected ? ` (${unconnected} never did${failed >= 0 ? `, ${failed} socket errors` : ''})` : ''}; server loop stall max ${(connectLagMax * 1000).toFixed(0)} ms`,
    );
    console.log(`server ticks/s:                 ${(ticks / elapsed).toFixed(1)}`);
    console.log(
      `reading client frames/s:        min ${Math.min(...fps).toFixed(1)}, mean ${(sumOf(fps) / fps.length).toFixed(1)}`,
    );
    console.log(
      `wire bytes/particle/frame:      ${wireBytesPerParticle.toFixed(3)} (envelope included)`,
    );
    const fanoutQ = (q: number) =>
      (histogramQuantile(after, 'swarmhost_fanout_duration_seconds', q) * 1000).toFixed(3);
    console.log(
      `fan-out per frame, ms:          mean ${fanoutMean.toFixed(3)}, p50 ≈ ${fanoutQ(0.5)}, p99 ≈ ${fanoutQ(0.99)}`,
    );
    console.log(
      `fan-out per client per frame:   ${fanoutPerSendUs.toFixed(1)} µs (fan-out time / frames sent)`,
    );
    console.log(`bytes per reading client:       ${(bytesPerClientPerS / 1024).toFixed(1)} KiB/s`);
    console.log(
      `server loop stall max:          ${(runLagMax * 1000).toFixed(0)} ms (measured run)`,
    );
    const run = samplesSince(after, before);
    const tickQ = (q: number) =>
      (histogramQuantile(run, 'swarmhost_tick_duration_seconds', q) * 1000).toFixed(2);
    console.log(
      `tick duration, ms:              p50 ≈ ${tickQ(0.5)}, p99 ≈ ${tickQ(0.99)} (measured run; ${PARTITIONS > 1 ? `world split over ${PARTITIONS} threads` : 'one thread'}${STEER_BUDGET === undefined ? '' : `, steer budget ${STEER_BUDGET}`})`,
    );
    console.log(
      `frames sent/s: ${(delta('swarmhost_frames_sent_total') / elapsed).toFixed(1)}, skipped/s: ${(delta('swarmhost_frames_skipped_total') / elapsed).toFixed(1)}, encodes/tick: ${(delta('swarmhost_frame_encodes_total') / ticks).toFixed(2)}`,
    );
    console.log(
      `server CPU:                     ${((delta('process_cpu_seconds_total') / elapsed) * 100).toFixed(0)}% of one core`,
    );
    console.log(
      `client CPU:                     ${(((clientCpu.user + clientCpu.system) / 1e6 / elapsed) * 100).toFixed(0)}% of one core (this process: the clients)`,
    );
    console.log(`server RSS MiB per second:      ${rss.map((r) => r.toFixed(0)).join(' ')}`);
    return 0;
  } finally {
    await clients?.close();
    await stopChild(child);
  }
}

const sumOf = (values: number[]): number => values.reduce((a, b) => a + b, 0);

runMain('bench:load', main);
