/**
 * `npm run bench:view`: what viewport subscriptions save. One real server
 * process, one lobby, one whole-world client and, for each view size, K
 * clients whose views (a square of that share of the world's area) sit at
 * different places and pan slowly, as players do. All in the same lobby over
 * the same seconds, so every ratio compares like with like: the bytes per
 * second a view client receives over what the whole-world client receives.
 * The flock is not uniform, so the ratio is averaged over the K positions.
 * Also the server's fan-out time per frame and its tile encodes per tick.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { LobbyClient, type SocketLike } from '../protocol/index.js';
import { exitOnSignals, stopChild } from './child-processes.js';
import { optionsHelp, readOptions, runMain } from './cli-options.js';
import { parseSamples, sum } from './prometheus-text.js';
import { LOOPBACK_CLIENT_CAPS, startServerProcess } from './server-process.js';

const OPTIONS = {
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
    doc: 'length of the measured run (after 2 s of warm-up)',
  },
  clients: {
    kind: 'int',
    arg: 'K',
    default: 8,
    min: 1,
    max: 200,
    doc: 'view clients per view size, at different positions',
  },
  sizes: {
    kind: 'intList',
    arg: 'LIST',
    default: [10, 25, 50],
    min: 1,
    max: 100,
    doc: 'view sizes, percent of the world area each view covers',
  },
  pan: {
    kind: 'int',
    arg: 'U',
    default: 20,
    min: 0,
    max: 1000,
    doc: 'how fast each view pans, world units per second',
  },
} as const;

const USAGE = `Usage: npm run bench:view -- [options]

One real server process, one lobby, one whole-world client and K view
clients per view size (a square covering that percentage of the world's
area), panning slowly from different positions. Prints each size's bytes
per second against the whole-world client's (mean, min, max over the K
positions), particles per frame, the server's fan-out time per frame and
its tile encodes per tick.

${optionsHelp(OPTIONS)}`;

const ADMIN_TOKEN = randomBytes(16).toString('hex');
const WARMUP_MS = 2000;
/** A panning client moves its view this often. */
const PAN_INTERVAL_MS = 250;

const scrape = async (base: string) => parseSamples(await (await fetch(`${base}/metrics`)).text());

interface Viewer {
  client: LobbyClient;
  size: number;
  bytes0: number;
  frames0: number;
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), OPTIONS);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const { sizes, particles: PARTICLES, seconds: SECONDS, clients: K, pan: PAN } = options.values;
  exitOnSignals();
  const { child, base } = await startServerProcess({
    SWARMHOST_MAX_PARTICLES: String(Math.max(PARTICLES, 100_000)),
    SWARMHOST_PARTICLE_BUDGET: String(Math.max(PARTICLES, 100_000)),
    SWARMHOST_ADMIN_TOKEN: ADMIN_TOKEN,
    SWARMHOST_ADMIN_PORT: '-1',
    ...LOOPBACK_CLIENT_CAPS,
  });
  const all: LobbyClient[] = [];
  const timers: ReturnType<typeof setInterval>[] = [];
  try {
    const created = await fetch(`${base}/lobbies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ id: 'view', particles: PARTICLES }),
    });
    if (created.status !== 201) throw new Error(`create lobby: ${created.status}`);
    const ws = `${base.replace('http', 'ws')}/lobby/view/ws`;
    const open = (events: ConstructorParameters<typeof LobbyClient>[1] = {}) => {
      const client = new LobbyClient(new WebSocket(ws) as unknown as SocketLike, events, {
        decode: false,
      });
      all.push(client);
      return client;
    };
    const whole = open();
    const viewers: Viewer[] = [];
    sizes.forEach((size, s) => {
      for (let k = 0; k < K; k++) {
        // Positions on a diagonal lattice, each size shifted, each panning its own way.
        let x = ((k + s / sizes.length) / K) * 1000;
        let y = ((((k * 3) % K) + 0.5) / K) * 1000;
        const angle = (2 * Math.PI * (k + 0.25 * s)) / K;
        const client = open({
          welcome: (w) => {
            const side = Math.sqrt(size / 100) * w.worldSize;
            const send = () =>
              client.setView({ x: x % w.worldSize, y: y % w.worldSize, w: side, h: side });
            send();
            timers.push(
              setInterval(() => {
                const step = (PAN * PAN_INTERVAL_MS) / 1000;
                x = (x + step * Math.cos(angle) + w.worldSize) % w.worldSize;
                y = (y + step * Math.sin(angle) + w.worldSize) % w.worldSize;
                send();
              }, PAN_INTERVAL_MS),
            );
          },
        });
        viewers.push({ client, size, bytes0: 0, frames0: 0 });
      }
    });
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const before = await scrape(base);
    const wholeBytes0 = whole.bytesReceived;
    const wholeFrames0 = whole.frames;
    for (const v of viewers) {
      v.bytes0 = v.client.bytesReceived;
      v.frames0 = v.client.frames;
    }
    const start = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const elapsed = (performance.now() - start) / 1000;
    const after = await scrape(base);
    const delta = (name: string, filter: Record<string, string> = {}) =>
      sum(after, name, filter) - sum(before, name, filter);
    const wholeRate = (whole.bytesReceived - wholeBytes0) / elapsed;
    const ticks = delta('swarmhost_tick_duration_seconds_count');

    console.log(
      `# bench:view  ${PARTICLES} particles, 1 whole-world client + ${K} view clients per size (${sizes.join(', ')}% of the area), panning ${PAN} units/s, ${SECONDS} s`,
    );
    console.log(
      `whole world:  ${(wholeRate / 1024).toFixed(1)} KiB/s, ${((whole.frames - wholeFrames0) / elapsed).toFixed(1)} frames/s`,
    );
    for (const size of sizes) {
      const mine = viewers.filter((v) => v.size === size);
      const ratios = mine.map((v) => (v.client.bytesReceived - v.bytes0) / elapsed / wholeRate);
      const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
      const fps = mine.map((v) => (v.client.frames - v.frames0) / elapsed);
      console.log(
        `view ${String(size).padStart(3)}%:    bytes ${(mean * 100).toFixed(1)}% of whole (min ${(Math.min(...ratios) * 100).toFixed(1)}%, max ${(Math.max(...ratios) * 100).toFixed(1)}%), ${((mean * wholeRate) / 1024).toFixed(1)} KiB/s, ${(fps.reduce((a, b) => a + b, 0) / fps.length).toFixed(1)} frames/s`,
      );
    }
    const fanoutMs =
      (delta('swarmhost_fanout_duration_seconds_sum') /
        delta('swarmhost_fanout_duration_seconds_count')) *
      1000;
    console.log(
      `fan-out per frame: ${fanoutMs.toFixed(3)} ms for ${1 + viewers.length} clients; tile encodes per tick: ${(delta('swarmhost_tile_encodes_total') / ticks).toFixed(1)} (key ${(delta('swarmhost_tile_encodes_total', { kind: 'key' }) / ticks).toFixed(1)}); server CPU ${((delta('process_cpu_seconds_total') / elapsed) * 100).toFixed(0)}% of one core`,
    );
    return 0;
  } finally {
    for (const t of timers) clearInterval(t);
    for (const c of all) if (c.closeCode === undefined) c.close();
    await stopChild(child as ChildProcess);
  }
}

runMain('bench:view', main);
