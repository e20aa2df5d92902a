/**
 * `npm run bench:checkpoint`: what a lobby checkpoint costs, by size, in the
 * pieces a hand-over (and a periodic checkpoint) is made of:
 *
 * - `handle.checkpoint()`: request to checkpoint on the main thread, for a
 *   lobby ticking on a real WorkerLobbyHost (it answers between two ticks,
 *   and its arrays are copied across threads);
 * - `encodeCheckpoint` / `decodeCheckpoint` (src/fleet/checkpoint-codec.ts):
 *   time and bytes;
 * - a Redis write and read of those bytes against a real redis-server on
 *   127.0.0.1, with ioredis: the write is a script of the same shape as the
 *   server's (lobby-leases.ts: check the lease, HSET the hash, PEXPIRE), the
 *   read the same HGETALL;
 * - resume: a WorkerLobbyHost spawn with `resume` to the resumed lobby's
 *   first frame on the main thread.
 *
 * It owns its hosts, its Redis and their teardown; a watchdog ends the run.
 */
import { Redis } from 'ioredis';
import { type LobbyCheckpoint, type LobbyHandle, WorkerLobbyHost } from '../lobbies/index.js';
import { decodeCheckpoint, encodeCheckpoint } from '../src/fleet/checkpoint-codec.js';
import { defaultConfig } from '../src/config.js';
import { intListOption, intOption, parseOptions, runMain } from './cli-options.js';
import { startRedis, stopAllRedis } from './redis-server.js';
import { ms, summarize } from './stats.js';

type LobbySettings = Parameters<WorkerLobbyHost['spawn']>[0];

/** A lobby's ticks settle (its worker's JIT) for this long before the first checkpoint. */
const WARM_UP_MS = 2000;
/** Runs of each step done first and not counted: the first ones time the JIT, not the step. */
const WARM_UP_RUNS = 5;
/** Checkpoints are taken this far apart, as a lobby that keeps ticking would see them (a few ticks). */
const SPACING_MS = 50;
/** No single checkpoint, resume or Redis command may take longer than this. */
const STEP_TIMEOUT_MS = 10_000;
/** A lost checkpoint of this many minutes would be a bug; the TTL only has to outlive the run. */
const CHECKPOINT_TTL_MS = 10 * 60_000;
/** Lets nothing hold the host open: a lobby's crash is a failure, not a restart. */
const NO_RESTARTS = { maxRestarts: 0, windowMs: 1000, backoffMs: 0 };
/** The server's own hand-over write, in shape (src/fleet/lobby-leases.ts WRITE_CHECKPOINT). */
const WRITE_CHECKPOINT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end
local stored = tonumber(redis.call('HGET', KEYS[2], 'fence')) or 0
if stored > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], 'data', ARGV[3], 'fence', ARGV[2], 'tick', ARGV[4], 'reason', ARGV[5], 'at', ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return 1
`;

const USAGE = `Usage: npm run bench:checkpoint -- [--sizes 10000,50000,100000] [--runs R]

For each lobby size, one lobby ticking on a real worker thread (a
WorkerLobbyHost of 1 worker, the server's default lobby settings) and one
real redis-server on 127.0.0.1; R runs of each step after ${WARM_UP_RUNS} warm-up runs
that are not counted (and after a whole warm-up pass at the smallest size),
p50 and p99:

  checkpoint()    the lobby's checkpoint, request to answer on the main thread
  encode, decode  src/fleet/checkpoint-codec.ts, and the encoded bytes
  Redis write     the bytes stored by a script shaped like the server's (ioredis)
  Redis read      HGETALL of that hash
  resume          a spawn with the checkpoint on another worker host, to the
                  resumed lobby's first frame (each resumed lobby then closes)

  --sizes LIST    particle counts, comma-separated (default 10000,50000,100000;
                  each 1..1000000)
  --runs R        runs of each step per size (default 30; 1..1000)
  -h, --help      this text

Exits 1 if a checkpoint does not decode or a resumed lobby does not continue
from it, 2 on a bad option.`;

class BenchFailure extends Error {}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BenchFailure(`${what}: no answer in ${STEP_TIMEOUT_MS} ms`)),
      STEP_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function spawn(host: WorkerLobbyHost, settings: LobbySettings): LobbyHandle {
  const spawned = host.spawn(settings);
  if (!spawned.ok) throw new BenchFailure(`lobby ${settings.id}: ${spawned.message}`);
  return spawned.handle;
}

/** Resolves with the first frame's tick and particle count (ring buffers go back to the worker: read them at once). */
function firstFrame(handle: LobbyHandle): Promise<{ at: number; tick: number; count: number }> {
  return new Promise((resolve) => {
    const off = handle.frames.onSend((_seq, frame) => {
      off();
      resolve({ at: performance.now(), tick: frame.tick, count: frame.count });
    });
  });
}

async function closeLobby(handle: LobbyHandle): Promise<void> {
  handle.leave(1);
  handle.close('bench done');
  const deadline = performance.now() + STEP_TIMEOUT_MS;
  while (!handle.ended) {
    if (performance.now() > deadline) throw new BenchFailure(`lobby ${handle.id} did not close`);
    await sleep(5);
  }
}

interface SizeResult {
  particles: number;
  bytes: number;
  checkpoint: number[];
  encode: number[];
  decode: number[];
  redisWrite: number[];
  redisRead: number[];
  resume: number[];
}

function settingsFor(id: string, particles: number): LobbySettings {
  const config = defaultConfig();
  return {
    id,
    seed: 42,
    particles,
    maxParticles: particles,
    worldSize: config.worldSize,
    tickRate: config.tickRate,
    maxCatchUpSteps: config.maxCatchUpSteps,
    // It must not pause or close on its own while the bench holds it.
    idleTimeoutMs: 600_000,
    inboxCapacity: config.inboxCapacity,
    closeGraceMs: config.closeGraceMs,
  };
}

async function measureSize(particles: number, runs: number, redis: Redis): Promise<SizeResult> {
  const id = `checkpoint-${particles}`;
  const settings = settingsFor(id, particles);
  const result: SizeResult = {
    particles,
    bytes: 0,
    checkpoint: [],
    encode: [],
    decode: [],
    redisWrite: [],
    redisRead: [],
    resume: [],
  };
  const frameRing = defaultConfig().frameRing;
  const home = new WorkerLobbyHost({ size: 1, frameRing, restartPolicy: NO_RESTARTS });
  const away = new WorkerLobbyHost({ size: 1, frameRing, restartPolicy: NO_RESTARTS });
  try {
    // (a) and (b): a ticking lobby, checkpointed, encoded, decoded, stored, read back.
    const lobby = spawn(home, settings);
    lobby.join(1);
    await sleep(WARM_UP_MS);
    const leaseKey = `bench:lease:${id}`;
    const checkpointKey = `bench:checkpoint:${id}`;
    await redis.set(leaseKey, 'bench 1');
    let last: LobbyCheckpoint | undefined;
    // Negative runs warm the codec (its JIT, msgpackr's buffer) and the connection up.
    for (let run = -WARM_UP_RUNS; run < runs; run++) {
      await sleep(SPACING_MS);
      const t0 = performance.now();
      const checkpoint = await within(lobby.checkpoint(), `checkpoint of ${id}`);
      const t1 = performance.now();
      const bytes = encodeCheckpoint(checkpoint);
      const t2 = performance.now();
      const decoded = decodeCheckpoint(bytes, id, particles, settings.worldSize);
      const t3 = performance.now();
      if (!decoded.ok)
        throw new BenchFailure(`checkpoint of ${id} does not decode: ${decoded.reason}`);
      if (decoded.checkpoint.world.count !== particles)
        throw new BenchFailure(
          `checkpoint of ${id} holds ${decoded.checkpoint.world.count} particles`,
        );
      const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const t4 = performance.now();
      const stored = await within(
        redis.eval(
          WRITE_CHECKPOINT,
          2,
          leaseKey,
          checkpointKey,
          'bench',
          1,
          data,
          checkpoint.tick,
          'periodic',
          Date.now(),
          CHECKPOINT_TTL_MS,
        ),
        'Redis write',
      );
      const t5 = performance.now();
      const hash = await within(redis.hgetallBuffer(checkpointKey), 'Redis read');
      const t6 = performance.now();
      if (stored !== 1 || !hash.data?.equals(data))
        throw new BenchFailure(`Redis did not store the checkpoint of ${id} (answered ${stored})`);
      result.bytes = bytes.byteLength;
      last = decoded.checkpoint;
      if (run < 0) continue;
      result.checkpoint.push(t1 - t0);
      result.encode.push(t2 - t1);
      result.decode.push(t3 - t2);
      result.redisWrite.push(t5 - t4);
      result.redisRead.push(t6 - t5);
    }
    await closeLobby(lobby);
    await redis.del(leaseKey, checkpointKey);

    // (c) resume: spawn with the checkpoint on another host, to its first frame.
    // The away worker's first lobbies run on cold code: not counted.
    for (let run = -WARM_UP_RUNS; run < runs && last; run++) {
      const t0 = performance.now();
      const resumed = spawn(away, { ...settings, resume: last });
      const first = firstFrame(resumed);
      resumed.join(1);
      const frame = await within(first, `first frame of resumed ${id}`);
      if (run >= 0) result.resume.push(frame.at - t0);
      if (frame.tick !== last.tick + 1 || frame.count !== particles)
        throw new BenchFailure(
          `resumed ${id} went on at tick ${frame.tick} with ${frame.count} particles, not ${last.tick + 1} with ${particles}`,
        );
      await closeLobby(resumed);
      await sleep(SPACING_MS);
    }
  } finally {
    await Promise.all([home.shutdown(), away.shutdown()]);
  }
  return result;
}

function report(results: SizeResult[], runs: number): void {
  const cell = (samples: number[]) => {
    const s = summarize(samples);
    return `${ms(s.p50)} / ${ms(s.p99)}`;
  };
  console.log('');
  console.log(
    '| particles | checkpoint bytes | bytes/particle | checkpoint() ms | encode ms | decode ms | Redis write ms | Redis read ms | resume → first frame ms |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results)
    console.log(
      `| ${r.particles} | ${r.bytes} | ${(r.bytes / r.particles).toFixed(2)} | ${cell(r.checkpoint)} | ${cell(r.encode)} | ${cell(r.decode)} | ${cell(r.redisWrite)} | ${cell(r.redisRead)} | ${cell(r.resume)} |`,
    );
  console.log('');
  console.log(
    `(each time cell: p50 / p99 over ${runs} runs, after ${WARM_UP_RUNS} uncounted warm-up runs; under 100 runs, p99 is the largest)`,
  );
}

async function main(): Promise<number> {
  const values = parseOptions(process.argv.slice(2), {
    sizes: { type: 'string' },
    runs: { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sizes = intListOption(values, 'sizes', [10_000, 50_000, 100_000], 1, 1_000_000);
  const runs = intOption(values, 'runs', 30, 1, 1000);

  // Per size: the warm-up, the runs (each a few ms to a few hundred), a margin.
  const budgetMs =
    30_000 +
    (sizes.length + 1) * (WARM_UP_MS + (runs + WARM_UP_RUNS) * 2 * (SPACING_MS + 1000) + 30_000);
  let redis: Redis | undefined;
  const bailOut = (why: string, code: number) => {
    console.error(`bench:checkpoint: ${why}`);
    redis?.disconnect();
    void stopAllRedis().finally(() => process.exit(code));
  };
  setTimeout(
    () => bailOut(`did not finish in ${budgetMs / 1000} s, giving up`, 1),
    budgetMs,
  ).unref();
  process.once('SIGINT', () => bailOut('interrupted', 130));
  process.once('SIGTERM', () => bailOut('terminated', 143));

  try {
    const server = await startRedis();
    redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    console.log(
      `# bench:checkpoint  node ${process.version}, 1 worker per host, ${runs} runs per step, redis-server on 127.0.0.1 (ioredis)`,
    );
    // A whole pass first, thrown away: whichever size came first otherwise
    // paid for warming the codec, ioredis and the worker code (its encode
    // measured 3-9x slower than the same size measured later in the run).
    const warmUp = Math.min(...sizes);
    await measureSize(warmUp, runs, redis);
    console.log(`(warm-up pass at ${warmUp} particles done, not reported)`);
    const results: SizeResult[] = [];
    for (const particles of sizes) {
      results.push(await measureSize(particles, runs, redis));
      console.log(`(${particles} particles done)`);
    }
    report(results, runs);
    return 0;
  } catch (error) {
    if (error instanceof BenchFailure) {
      console.error(`bench:checkpoint: FAILED: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    redis?.disconnect();
    await stopAllRedis();
  }
}

runMain('bench:checkpoint', main);
