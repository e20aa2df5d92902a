/**
 * `npm run bench:jitter`: how precisely lobbies tick, inline on the main
 * thread versus on a worker thread, idle and while the main thread fans a
 * lobby out to N clients (in a separate bots process), the worker at its
 * default priority (SCHED_RR), at nice -10 alone, and at no raised
 * priority (what it gets without root or CAP_SYS_NICE); then the largest
 * lobby one worker sustains at 60 Hz; then the aggregate particles x ticks
 * per second with one lobby per worker while the N clients are spread over
 * them.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { AddressInfo } from 'node:net';
import { WorkerLobbyHost } from '../lobbies/index.js';
import { buildApp } from '../src/app.js';
import { type Config, defaultConfig } from '../src/config.js';
import { exitOnSignals, killWithParent } from './child-processes.js';
import { optionsHelp, readOptions, runMain } from './cli-options.js';
import { ms, summarize } from './stats.js';

const OPTIONS = {
  clients: {
    kind: 'int',
    arg: 'N',
    default: 100,
    min: 1,
    max: 10_000,
    doc: 'clients fanned out to (a bots process), spread over the lobbies in the last phase',
  },
  particles: {
    kind: 'int',
    arg: 'P',
    default: 10_000,
    min: 1,
    max: 1_000_000,
    doc: 'particles in the measured lobby, and in each lobby of the last phase',
  },
  seconds: {
    kind: 'int',
    arg: 'T',
    default: 8,
    min: 1,
    max: 3600,
    doc: 'measured seconds per phase after a 3 s settle; at most 5 in the capacity phases',
  },
  capacity: {
    kind: 'intList',
    arg: 'a,b,c',
    default: [30_000, 40_000, 50_000, 60_000],
    min: 1,
    max: 1_000_000,
    doc: 'lobby sizes tried on one worker for the largest that sustains 60 Hz',
  },
} as const;

const USAGE = `Usage: npm run bench:jitter -- [options]

How precisely lobbies tick (lateness and duration of each tick), inline on
the main thread versus on a worker thread at its default priority, at nice
-10 and unprioritised, idle and while the main thread fans out to N clients
in a separate bots process; then the largest lobby one worker sustains at
60 Hz; then particles x ticks per second with one lobby per core. Servers
run in this process, on 127.0.0.1.

${optionsHelp(OPTIONS)}`;

type WorkerPriority = Partial<Pick<Config, 'workerNice' | 'workerRealtime'>>;

interface Sample {
  late: number[];
  duration: number[];
  ticks: number;
  seconds: number;
}

/** This run's admin token: creating lobbies over REST needs one. */
const ADMIN_TOKEN = randomBytes(16).toString('hex');

async function withServer<T>(
  workers: number,
  run: (base: string, app: Awaited<ReturnType<typeof buildApp>>) => Promise<T>,
  priority: WorkerPriority = {},
): Promise<T> {
  const config = defaultConfig({
    host: '127.0.0.1',
    port: 0,
    workers,
    ...priority,
    logLevel: 'silent',
    maxClientsPerLobby: 10_000,
    maxParticles: 1_000_000,
    // The capacity phase goes past the default admission budget on purpose.
    particleBudget: 1_000_000,
    idleTimeoutMs: 600_000,
    adminToken: ADMIN_TOKEN,
    // Every bot connects from 127.0.0.1: the per-address caps would stop them.
    maxSockets: 100_000,
    maxSocketsPerIp: 100_000,
    maxConnectionsPerIp: 100_000,
  });
  const app = await buildApp(config, { logger: false });
  await app.fastify.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.fastify.server.address() as AddressInfo).port}`;
  try {
    return await run(base, app);
  } finally {
    await app.fastify.close();
  }
}

async function createLobby(base: string, id: string, particles: number): Promise<void> {
  const res = await fetch(`${base}/lobbies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ id, particles }),
  });
  if (res.status !== 201) throw new Error(`create ${id}: ${res.status} ${await res.text()}`);
}

/** Tick lateness and duration of one lobby over `seconds`, after a 3 s settle (JIT warm-up of a fresh thread). */
async function sample(
  app: Awaited<ReturnType<typeof buildApp>>,
  id: string,
  seconds: number,
): Promise<Sample> {
  const handle = app.directory.get(id)!.handle;
  // An empty lobby is paused. A member that is no session keeps it ticking
  // with no fan-out: the "idle" of these phases. (Session ids start at 1.)
  if (handle.joinedClients().length === 0) handle.join(0);
  await new Promise((r) => setTimeout(r, 3000));
  const late: number[] = [];
  const duration: number[] = [];
  const stop = handle.frames.onSend((_seq, frame) => {
    late.push(frame.stats.lateMs);
    duration.push(frame.stats.durationMs);
  });
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop();
  return { late, duration, ticks: late.length, seconds: (performance.now() - started) / 1000 };
}

function bots(
  base: string,
  lobby: string,
  clients: number,
  seconds: number,
): Promise<{ messages: number[] }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/bots.ts',
      `${base.replace('http', 'ws')}/lobby/${lobby}/ws`,
      String(clients),
      String(seconds),
    ],
    {
      // bots.ts exits when its stdin closes: with this process, however it ends.
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  killWithParent(child);
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`bots exited ${code}`)),
    ),
  );
}

const row = (label: string, s: Sample) => {
  const late = summarize(s.late);
  const dur = summarize(s.duration);
  return {
    label,
    lateP50: late.p50,
    lateP99: late.p99,
    lateMax: late.max,
    durP50: dur.p50,
    durP99: dur.p99,
    hz: s.ticks / s.seconds,
  };
};

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), OPTIONS);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const { clients: CLIENTS, particles: PARTICLES, seconds: SECONDS } = options.values;
  exitOnSignals();
  console.log(
    `# bench:jitter  node ${process.version}, ${availableParallelism()} cores, lobby of ${PARTICLES} particles, ${CLIENTS} clients, ${SECONDS} s per phase\n`,
  );
  const rows: ReturnType<typeof row>[] = [];
  const variants: Array<[label: string, workers: number, priority: WorkerPriority]> = [
    ['inline', 0, {}],
    ['worker unprioritised', 1, { workerNice: 0, workerRealtime: 0 }],
    ['worker nice -10', 1, { workerNice: -10, workerRealtime: 0 }],
    ['worker', 1, {}],
  ];
  for (const [mode, workers, priority] of variants) {
    await withServer(
      workers,
      async (base, app) => {
        await createLobby(base, 'jitter', PARTICLES);
        rows.push(row(`${mode}, idle`, await sample(app, 'jitter', SECONDS)));
        // What the worker really got (nothing is granted without privileges).
        if (app.host instanceof WorkerLobbyHost) {
          const got = app.host.workers[0]?.priority;
          console.log(
            `(${mode}: worker thread nice ${got?.nice}, realtime ${got?.realtime ?? 'no'}${got?.refused.length ? `, refused: ${got.refused.join('; ')}` : ''})`,
          );
        }
        const crowd = bots(base, 'jitter', CLIENTS, SECONDS + 4);
        rows.push(row(`${mode}, ${CLIENTS} clients`, await sample(app, 'jitter', SECONDS)));
        const { messages } = await crowd;
        const perClient = summarize(messages.map((m) => m / (SECONDS + 4)));
        console.log(
          `(${mode}: each client got ${perClient.p50.toFixed(1)} msgs/s median, ${Math.min(...messages.map((m) => m / (SECONDS + 4))).toFixed(1)} min)`,
        );
      },
      priority,
    );
  }
  console.log(
    '\n| hosting | lateness p50 ms | lateness p99 ms | lateness max ms | tick p50 ms | tick p99 ms | ticks/s |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.label} | ${ms(r.lateP50)} | ${ms(r.lateP99)} | ${ms(r.lateMax)} | ${ms(r.durP50)} | ${ms(r.durP99)} | ${r.hz.toFixed(1)} |`,
    );
  const byLabel = new Map(rows.map((r) => [r.label, r]));
  const ratio = (a: string, b: string) =>
    (byLabel.get(a)!.lateP99 / Math.max(1e-3, byLabel.get(b)!.lateP99)).toFixed(1);
  console.log(
    `\nlateness p99 ratio inline/worker: idle ${ratio('inline, idle', 'worker, idle')}x, with clients ${ratio(`inline, ${CLIENTS} clients`, `worker, ${CLIENTS} clients`)}x; unprioritised/default worker with clients ${ratio(`worker unprioritised, ${CLIENTS} clients`, `worker, ${CLIENTS} clients`)}x`,
  );

  console.log(
    '\n| particles in one lobby, one worker | tick p50 ms | tick p99 ms | sustains 60 Hz (p99 ≤ 16.7 ms) |',
  );
  console.log('|---|---|---|---|');
  for (const particles of options.values.capacity) {
    await withServer(1, async (base, app) => {
      await createLobby(base, 'big', particles);
      const s = summarize((await sample(app, 'big', Math.min(SECONDS, 5))).duration);
      console.log(
        `| ${particles} | ${ms(s.p50)} | ${ms(s.p99)} | ${s.p99 <= 1000 / 60 ? 'yes' : 'no'} |`,
      );
    });
  }

  // One lobby per core, each on its own worker, while the main thread serves
  // CLIENTS clients spread evenly over them (one bots process per lobby).
  const workers = availableParallelism();
  await withServer(workers, async (base, app) => {
    const ids = Array.from({ length: workers }, (_, i) => `agg-${i}`);
    for (const id of ids) await createLobby(base, id, PARTICLES);
    const perLobby = Math.ceil(CLIENTS / workers);
    const crowds = ids.map((id) => bots(base, id, perLobby, SECONDS + 4));
    const samples = await Promise.all(ids.map((id) => sample(app, id, SECONDS)));
    const received = (await Promise.all(crowds)).flatMap(({ messages }) =>
      messages.map((m) => m / (SECONDS + 4)),
    );
    const rate = samples.reduce((total, s) => total + (s.ticks / s.seconds) * PARTICLES, 0);
    const p99 = Math.max(...samples.map((s) => summarize(s.duration).p99));
    const lateP99 = Math.max(...samples.map((s) => summarize(s.late).p99));
    console.log(
      `\naggregate, ${workers} workers x one ${PARTICLES}-particle lobby, ${perLobby * workers} clients: ` +
        `${(rate / 1e6).toFixed(2)} M particle-ticks/s, ${samples.map((s) => (s.ticks / s.seconds).toFixed(1)).join(' / ')} ticks/s, ` +
        `worst lobby tick p99 ${ms(p99)} ms, lateness p99 ${ms(lateP99)} ms; ` +
        `each client got ${summarize(received).p50.toFixed(1)} msgs/s median, ${Math.min(...received).toFixed(1)} min`,
    );
  });
  return 0;
}

runMain('bench:jitter', main);
