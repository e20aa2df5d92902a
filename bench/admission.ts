/**
 * `npm run bench:admission`: admission control under attack. One real
 * server process (default config unless told otherwise), one player in a
 * first lobby; then an attacker tries to create many lobbies by joining new
 * ids by URL (half keep their socket open and flood spawns into whatever
 * lobby they got, half say hello and leave at once). Reports what the first
 * lobby's player got during the attack (frames/s, the lobby's ticks/s and
 * tick lateness, target >= 59 Hz) and how many lobbies and spawns the
 * server refused.
 */
import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import {
  CloseCode,
  encodeMessage,
  LobbyClient,
  PROTOCOL_VERSION,
  type SocketLike,
} from '../protocol/index.js';
import { SETTINGS } from '../src/config.js';
import { exitOnSignals, stopChild } from './child-processes.js';
import { optionsHelp, readOptions, runMain } from './cli-options.js';
import { histogramQuantile, parseSamples, type Sample, sum } from './prometheus-text.js';
import { startServerProcess } from './server-process.js';

const OPTIONS = {
  lobbies: {
    kind: 'int',
    arg: 'N',
    default: 200,
    min: 1,
    max: 100_000,
    doc: 'lobby creations the attacker tries: half join a new id and stay (flooding spawns), half say hello and leave at once',
  },
  seconds: {
    kind: 'int',
    arg: 'S',
    default: 10,
    min: 1,
    max: 3600,
    doc: 'length of the attack, measured',
  },
  'spawn-rate': {
    kind: 'number',
    arg: 'R',
    default: 20,
    min: 0.1,
    max: 1000,
    doc: 'spawn messages per second from each attacker that got in',
  },
  budget: {
    kind: 'optionalInt',
    arg: 'P',
    defaultDoc: "the server's",
    min: SETTINGS.particleBudget.min,
    max: SETTINGS.particleBudget.max,
    doc: 'SWARMHOST_PARTICLE_BUDGET for the server',
  },
  workers: {
    kind: 'optionalInt',
    arg: 'W',
    defaultDoc: "the server's",
    min: SETTINGS.workers.min,
    max: SETTINGS.workers.max,
    doc: 'SWARMHOST_WORKERS for the server',
  },
} as const;

const USAGE = `Usage: npm run bench:admission -- [options]

One real server process (default config unless told otherwise) and one
player in a first lobby; then an attacker tries to create many lobbies by
joining new ids by URL. Prints what the first lobby's player got during the
attack (frames/s, ticks/s, tick lateness; target >= 59 frames/s) and how
many lobbies and spawns the server refused.

${optionsHelp(OPTIONS)}`;

const FIRST = 'first';

/** Beyond the attack itself: the connections and the slowest answers, then the bench gives up. */
const WATCHDOG_SLACK_MS = 120_000;

async function startServer(
  budget?: number,
  workers?: number,
): Promise<{ child: ChildProcess; base: string }> {
  const env: NodeJS.ProcessEnv = {};
  if (budget !== undefined) env.SWARMHOST_PARTICLE_BUDGET = String(budget);
  if (workers !== undefined) env.SWARMHOST_WORKERS = String(workers);
  return startServerProcess(env);
}

/** A server swamped by the attack may not answer: no request waits longer than this. */
const REQUEST_TIMEOUT_MS = 15_000;
const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
const scrape = async (base: string) => parseSamples(await (await get(`${base}/metrics`)).text());

/** after − before, sample by sample (counters and histogram buckets over the attack). */
function delta(before: Sample[], after: Sample[]): Sample[] {
  const key = (s: Sample) => `${s.name}${JSON.stringify(s.labels)}`;
  const old = new Map(before.map((s) => [key(s), s.value]));
  return after.map((s) => ({ ...s, value: s.value - (old.get(key(s)) ?? 0) }));
}

function join(base: string, id: string): LobbyClient {
  const socket = new WebSocket(`${base.replace('http', 'ws')}/lobby/${id}/ws`);
  socket.on('error', () => {
    // Surfaces as the close code.
  });
  return new LobbyClient(socket as unknown as SocketLike);
}

const settled = (client: LobbyClient) =>
  client.welcome !== undefined || client.closeCode !== undefined;

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Says hello to a new id and leaves without waiting for an answer. */
function helloThenLeave(base: string, id: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${base.replace('http', 'ws')}/lobby/${id}/ws`);
    socket.on('error', () => resolve());
    socket.on('open', () => {
      socket.send(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION }));
      socket.close(1000);
    });
    socket.on('close', () => resolve());
  });
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), OPTIONS);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const { lobbies: LOBBIES, seconds: SECONDS, 'spawn-rate': SPAWN_RATE } = options.values;
  exitOnSignals();
  // Whatever happens to the server, the bench ends (the server is killed
  // on the way out: child-processes.ts).
  const watchdog = setTimeout(
    () => {
      console.error('bench:admission: did not finish in time, giving up');
      process.exit(1);
    },
    SECONDS * 1000 + WATCHDOG_SLACK_MS,
  );
  watchdog.unref();
  const { child, base } = await startServer(options.values.budget, options.values.workers);
  const clients: LobbyClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    const player = join(base, FIRST);
    clients.push(player);
    await until(() => player.frames > 30, 10_000);
    if (player.frames === 0)
      throw new Error(`the first player got no frames (${player.closeReason})`);
    const config = (await (await get(`${base}/config`)).json()).config;
    // Let the first lobby settle after its worker's JIT warm-up.
    await new Promise((r) => setTimeout(r, 2000));

    const before = await scrape(base);
    const frames0 = player.frames;
    const started = performance.now();
    const end = started + SECONDS * 1000;

    // The attack: connections in waves of 20, then spawn floods to the end.
    const stayers: LobbyClient[] = [];
    const leavers: Promise<void>[] = [];
    const stay = Math.ceil(LOBBIES / 2);
    for (let i = 0; i < LOBBIES; i += 20) {
      const wave: Promise<void>[] = [];
      for (let j = i; j < Math.min(LOBBIES, i + 20); j++) {
        if (j < stay) {
          const client = join(base, `attack-${j}`);
          stayers.push(client);
          wave.push(until(() => settled(client), 5000));
        } else {
          const left = helloThenLeave(base, `hit-${j}`);
          leavers.push(left);
          wave.push(left);
        }
      }
      await Promise.all(wave);
    }
    clients.push(...stayers);
    const admitted = stayers.filter((c) => c.welcome !== undefined);
    for (const client of admitted) {
      timers.push(
        setInterval(() => {
          if (client.closeCode === undefined) client.spawn(500, 500, config.maxSpawn);
        }, 1000 / SPAWN_RATE),
      );
    }
    const connectSeconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, end - performance.now())));
    for (const timer of timers) clearInterval(timer);
    const elapsed = (performance.now() - started) / 1000;
    const after = await scrape(base);
    const status = await (await get(`${base}/status`)).json();
    const during = delta(before, after);

    const fps = (player.frames - frames0) / elapsed;
    const ticks = sum(during, 'swarmhost_tick_duration_seconds_count', { lobby: FIRST }) / elapsed;
    const lateP99 =
      histogramQuantile(during, 'swarmhost_tick_lateness_seconds', 0.99, { lobby: FIRST }) * 1000;
    const tickP99 =
      histogramQuantile(during, 'swarmhost_tick_duration_seconds', 0.99, { lobby: FIRST }) * 1000;
    const refusedByClose = stayers.filter((c) => c.closeCode === CloseCode.tooManyLobbies);
    const refusals = (reason: string) =>
      sum(during, 'swarmhost_lobbies_refused_total', { reason }).toFixed(0);
    const spawnsRefused = admitted.reduce(
      (n, c) => n + c.errors.filter((e) => e.code === 'particle_cap').length,
      0,
    );
    const spawnsSent = sum(during, 'swarmhost_inputs_total', { result: 'accepted' });
    const workers = status.capacity.workers as {
      worker: string;
      particles: number;
      budget: number;
    }[];

    console.log(
      `# bench:admission  ${LOBBIES} lobby creations tried (${stay} join and stay, ${LOBBIES - stay} hello-then-leave), spawn floods at ${SPAWN_RATE}/s x ${config.maxSpawn}, ${SECONDS} s`,
    );
    console.log(
      `server: ${config.workers} worker(s), particle budget ${config.particleBudget} per worker, max lobbies ${config.maxLobbies}, first lobby ${status.lobbies.find((l: { id: string }) => l.id === FIRST)?.particles} particles`,
    );
    console.log(`connections made in:              ${connectSeconds.toFixed(1)} s`);
    console.log(`first lobby, player frames/s:      ${fps.toFixed(1)}`);
    console.log(`first lobby, server ticks/s:       ${ticks.toFixed(1)}`);
    console.log(
      `first lobby, tick p99 / lateness p99 ms: ${tickP99.toFixed(2)} / ${lateP99.toFixed(2)}`,
    );
    console.log(
      `lobbies admitted: ${admitted.length} of ${stay} joins that stayed; refused with 4003: ${refusedByClose.length}; lobbies now ${status.lobbies.length}`,
    );
    console.log(
      `lobbies refused (server count): instance_full ${refusals('instance_full')}, too_many_lobbies ${refusals('too_many_lobbies')}`,
    );
    console.log(
      `spawns accepted into inboxes: ${spawnsSent}, refused with particle_cap: ${spawnsRefused}`,
    );
    console.log(
      `budget use: ${workers.map((w) => `worker ${w.worker} ${w.particles}/${w.budget}`).join(', ')}`,
    );
    console.log(
      `server CPU: ${((sum(during, 'process_cpu_seconds_total') / elapsed) * 100).toFixed(0)}% of one core, RSS ${(sum(after, 'process_resident_memory_bytes') / 2 ** 20).toFixed(0)} MiB`,
    );
    console.log(fps >= 59 ? 'target met: >= 59 frames/s' : 'TARGET MISSED: < 59 frames/s');
    await Promise.all(leavers);
    return 0;
  } finally {
    for (const timer of timers) clearInterval(timer);
    for (const client of clients) if (client.closeCode === undefined) client.close();
    await stopChild(child);
  }
}

runMain('bench:admission', main);
