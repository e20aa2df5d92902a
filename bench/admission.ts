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
import { startServerProcess } from './server-process.js';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import {
  CloseCode,
  encodeMessage,
  LobbyClient,
  PROTOCOL_VERSION,
  type SocketLike,
} from '../protocol/index.js';
import { histogramQuantile, parseSamples, type Sample, sum } from './prometheus-text.js';

const USAGE = `usage: npm run bench:admission -- [options]

  --lobbies N        lobby creations the attacker tries (default 200): half join a new id
                     and stay (flooding spawns), half say hello and leave at once
  --seconds S        length of the attack, measured (default 10)
  --spawn-rate R     spawn messages per second from each attacker that got in (default 20)
  --budget P         SWARMHOST_PARTICLE_BUDGET for the server (default: the server's default)
  --workers W        SWARMHOST_WORKERS for the server (default: the server's default)
  --help             this text`;

const { values } = parseArgs({
  options: {
    lobbies: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    'spawn-rate': { type: 'string', default: '20' },
    budget: { type: 'string' },
    workers: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const LOBBIES = Number(values.lobbies);
const SECONDS = Number(values.seconds);
const SPAWN_RATE = Number(values['spawn-rate']);
const FIRST = 'first';

// Whatever happens to the server, the bench ends: the attack, a minute for
// the connections and the slowest answers, then it gives up.
let server: ChildProcess | undefined;
const watchdog = setTimeout(
  () => {
    console.error('bench:admission: did not finish in time, giving up');
    server?.kill('SIGKILL');
    process.exit(1);
  },
  (SECONDS + 120) * 1000,
);
watchdog.unref();

async function startServer(): Promise<{ child: ChildProcess; base: string }> {
  const env: NodeJS.ProcessEnv = {};
  if (values.budget !== undefined) env.SWARMHOST_PARTICLE_BUDGET = values.budget;
  if (values.workers !== undefined) env.SWARMHOST_WORKERS = values.workers;
  const started = await startServerProcess(env);
  server = started.child;
  return started;
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

async function main(): Promise<void> {
  const { child, base } = await startServer();
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
  } finally {
    for (const timer of timers) clearInterval(timer);
    for (const client of clients) if (client.closeCode === undefined) client.close();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(kill);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
