/**
 * Every setting, in one frozen table: its environment variable, default,
 * range and meaning. `loadConfig` reads the environment (and --host/--port
 * flags), validates everything at start, and throws ConfigError naming the
 * first bad setting. docs/CONFIG.md lists this table (a test keeps it true).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { MAX_QUANT_ERROR, STATS_REPORT_INTERVAL_MS } from '../protocol/index.js';
import { usableCores } from './usable-cores.js';

type Kind = 'int' | 'number' | 'string' | 'bool' | 'list';

interface Setting {
  env: string;
  kind: Kind;
  default: number | string | boolean | readonly string[];
  min?: number;
  max?: number;
  pattern?: RegExp;
  oneOf?: readonly string[];
  /** May be changed at run time with PATCH /config (runtime-settings.ts). */
  tunable?: boolean;
  /** Never shown by GET /config. */
  secret?: boolean;
  /** How docs show a default computed from the machine. */
  defaultDoc?: string;
  doc: string;
}

const s = <const S extends Setting>(setting: S): S => setting;

/**
 * SWARMHOST_TRUST_PROXY: empty, `true`/`false`, a hop count, or a list of
 * IPv4/IPv6 addresses and CIDRs (what Fastify's trustProxy accepts).
 */
const TRUST_PROXY_PATTERN = /^(|true|false|\d{1,2}|[0-9A-Fa-f.:/]+(\s*,\s*[0-9A-Fa-f.:/]+)*)$/;

/**
 * Connections the process can hold without running out of descriptors:
 * the soft open-file limit less room for files, workers and logs.
 */
function defaultMaxConnections(): number {
  return Math.max(16, Math.min(16_384, openFileLimit() - 128));
}

function openFileLimit(): number {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    if (soft === 'unlimited') return Number.POSITIVE_INFINITY;
    if (soft !== undefined) return Number(soft);
  } catch {
    // Not Linux: fall through to a conservative guess.
  }
  return 1024;
}
/**
 * SWARMHOST_PARTICLE_BUDGET's default on the JS kernel: 30,000 particles,
 * three lobbies of 10,000, kept the first at 60 Hz under bench:admission's
 * attack; 60,000 did not (docs/BENCHMARKS.md "Admission control").
 */
export const JS_KERNEL_PARTICLE_BUDGET = 30_000;

/**
 * The configs (from loadConfig or defaultConfig) whose SWARMHOST_PARTICLE_BUDGET
 * was left unset: theirs follows the kernel that runs. Kept beside the
 * config, not in it, so that a config holds only settings.
 */
const budgetLeftUnset = new WeakSet<Config>();

/**
 * The particle budget for the kernel that runs: one left unset is the JS
 * kernel's on JS (JS_KERNEL_PARTICLE_BUDGET, or defaultParticles if more:
 * a lobby joined by URL must fit); one that was set is kept.
 */
export function particleBudgetFor(config: Config, kernel: 'wasm' | 'js'): number {
  if (kernel === 'wasm' || !budgetLeftUnset.has(config)) return config.particleBudget;
  return jsKernelBudget(config.defaultParticles);
}

/** An unset budget on the JS kernel: its default, or defaultParticles if more (a lobby joined by URL must fit). */
const jsKernelBudget = (defaultParticles: number): number =>
  Math.max(JS_KERNEL_PARTICLE_BUDGET, defaultParticles);

/** SWARMHOST_ADMIN_PORT's "no admin listener": the admin routes stay on PORT. */
export const ADMIN_PORT_OFF = -1;

/** The only NODE_ENV values under which fault injection may be enabled. */
export const FAULT_INJECTION_ENVS: readonly string[] = ['development', 'test'];

/** Largest world side a 16-bit coordinate covers within MAX_QUANT_ERROR. */
const MAX_WORLD_SIZE = Math.floor(2 ** 16 * 2 * MAX_QUANT_ERROR);

export const SETTINGS = {
  host: s({
    env: 'HOST',
    kind: 'string',
    default: '0.0.0.0',
    doc: 'Interface to listen on (also `--host`).',
  }),
  port: s({
    env: 'PORT',
    kind: 'int',
    default: 8080,
    min: 0,
    max: 65535,
    doc: 'TCP port; 0 picks a free one (also `--port`).',
  }),
  listenBacklog: s({
    env: 'SWARMHOST_LISTEN_BACKLOG',
    kind: 'int',
    default: 4096,
    min: 1,
    max: 65535,
    doc: "Connections the kernel queues for accept on PORT (and the admin port); the kernel caps it at net.core.somaxconn. Node's own default, 511, overflows when a thousand players connect at once (after a restart or a drain): the overflow's handshakes are dropped and retried a second or more later.",
  }),
  logLevel: s({
    env: 'SWARMHOST_LOG_LEVEL',
    kind: 'string',
    default: 'info',
    oneOf: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    doc: 'Log level (JSON logs on stdout).',
  }),
  instanceId: s({
    env: 'SWARMHOST_INSTANCE_ID',
    kind: 'string',
    default: '',
    pattern: /^[A-Za-z0-9_.:-]{0,64}$/,
    doc: 'Name of this instance in welcome messages and metrics; empty means `<hostname>-<random>`.',
  }),
  maxLobbies: s({
    env: 'SWARMHOST_MAX_LOBBIES',
    kind: 'int',
    default: 64,
    min: 1,
    max: 10_000,
    doc: 'Lobbies this instance hosts at once; joining a new id beyond it is refused (close 4003).',
  }),
  maxClientsPerLobby: s({
    env: 'SWARMHOST_MAX_CLIENTS_PER_LOBBY',
    kind: 'int',
    default: 100,
    min: 1,
    max: 10_000,
    doc: 'Clients in one lobby; one more is refused (close 4002).',
  }),
  defaultParticles: s({
    env: 'SWARMHOST_DEFAULT_PARTICLES',
    kind: 'int',
    default: 10_000,
    min: 0,
    max: 1_000_000,
    tunable: true,
    doc: 'Particles in a lobby created by joining (POST /lobbies may choose).',
  }),
  maxParticles: s({
    env: 'SWARMHOST_MAX_PARTICLES',
    kind: 'int',
    default: 100_000,
    min: 1,
    max: 1_000_000,
    doc: 'Per-lobby particle cap: the most a lobby may be created with or grow to by spawns.',
  }),
  particleBudget: s({
    env: 'SWARMHOST_PARTICLE_BUDGET',
    kind: 'int',
    // The wasm kernel's (the default kernel): 60,000 particles, six lobbies
    // of 10,000, kept the first one at 60 Hz under bench:admission's attack
    // in every run on the 2-core development VM; 100,000 was at the edge and
    // 150,000 missed (docs/BENCHMARKS.md "Admission control"): well below
    // the edge, as JS_KERNEL_PARTICLE_BUDGET is for the JS kernel.
    default: 60_000,
    min: 0,
    max: 10_000_000,
    doc: 'Particles all the lobbies of one worker thread may hold together (the main thread with SWARMHOST_WORKERS=0). A new lobby that fits on no worker is refused (POST /lobbies 503 `instance_full`, a join by URL closes with 4003), a spawn beyond it gets `particle_cap`. Paused and restarting lobbies keep their particles. Left unset, it follows the kernel: 60000 on wasm, 30000 on JS (SWARMHOST_KERNEL=js, or a wasm kernel that could not load), which steps a particle about 2.6 times slower; never less than SWARMHOST_DEFAULT_PARTICLES then. A value that is set is kept.',
  }),
  maxPartitions: s({
    env: 'SWARMHOST_MAX_PARTITIONS',
    kind: 'int',
    default: 1,
    min: 1,
    max: 16,
    doc: "Most threads one lobby's world may be split over. A lobby whose particles exceed SWARMHOST_PARTICLE_BUDGET is split into ceil(particles / budget) partitions, if that is at most this and at most SWARMHOST_WORKERS, each worker it uses is charged its share, and each has room for it; else it is refused as `instance_full`. Needs the wasm kernel (SWARMHOST_KERNEL) and worker threads. 1 (the default) never splits.",
  }),
  maxSpawn: s({
    env: 'SWARMHOST_MAX_SPAWN',
    kind: 'int',
    default: 500,
    min: 1,
    max: 100_000,
    doc: 'Most particles one spawn message may ask for.',
  }),
  worldSize: s({
    env: 'SWARMHOST_WORLD_SIZE',
    kind: 'number',
    default: 1000,
    min: 400,
    max: MAX_WORLD_SIZE,
    doc: `Side of the square toroidal world, world units (at most ${MAX_WORLD_SIZE}, so 16-bit coordinates stay within ${MAX_QUANT_ERROR}).`,
  }),
  tickRate: s({
    env: 'SWARMHOST_TICK_RATE',
    kind: 'int',
    default: 60,
    min: 1,
    max: 240,
    doc: 'Simulation steps per second (fixed step).',
  }),
  maxCatchUpSteps: s({
    env: 'SWARMHOST_MAX_CATCH_UP_STEPS',
    kind: 'int',
    default: 4,
    min: 1,
    max: 60,
    doc: 'Most steps run back to back after a stall; the rest are dropped and counted.',
  }),
  idleTimeoutMs: s({
    env: 'SWARMHOST_IDLE_TIMEOUT_MS',
    kind: 'int',
    default: 60_000,
    min: 0,
    max: 86_400_000,
    doc: 'A lobby with no clients for this long closes.',
  }),
  closeGraceMs: s({
    env: 'SWARMHOST_CLOSE_GRACE_MS',
    kind: 'int',
    default: 2_000,
    min: 0,
    max: 600_000,
    doc: 'How long a closing or draining lobby waits for its clients to leave.',
  }),
  inboxCapacity: s({
    env: 'SWARMHOST_INBOX_CAPACITY',
    kind: 'int',
    default: 1024,
    min: 1,
    max: 1_000_000,
    doc: "Inputs queued for a lobby's next tick; beyond it inputs are refused with `inbox_full`.",
  }),
  frameRing: s({
    env: 'SWARMHOST_FRAME_RING',
    kind: 'int',
    default: 64,
    min: 2,
    max: 1024,
    doc: 'Frames kept per lobby as delta bases; a client further behind gets a keyframe.',
  }),
  kernel: s({
    env: 'SWARMHOST_KERNEL',
    kind: 'string',
    default: 'wasm',
    oneOf: ['wasm', 'js'],
    doc: "What steps each lobby's world: `wasm` (the WebAssembly kernel that `npm run build` compiles) or `js` (the JavaScript one). When the wasm kernel cannot be loaded the server logs one warning saying why and runs the JS kernel.",
  }),
  steerBudget: s({
    env: 'SWARMHOST_STEER_BUDGET',
    kind: 'int',
    default: 10_000,
    min: 0,
    max: 10_000_000,
    doc: "Neighbour steerings a lobby's step aims to stay within. A world of more than twice this many particles steers each particle every ceil(particles / budget) steps (at most every 4th) instead of every 2nd, so a big lobby still fits a 60 Hz tick; 0 means no budget: every particle steers every 2nd step, as in small worlds, whatever the size.",
  }),
  sendHighWaterBytes: s({
    env: 'SWARMHOST_SEND_HIGH_WATER_BYTES',
    kind: 'int',
    default: 256 * 1024,
    min: 1024,
    max: 64 * 1024 * 1024,
    tunable: true,
    doc: "A client's unsent bytes above which its frames are skipped (bounds memory per slow client).",
  }),
  sendRate: s({
    env: 'SWARMHOST_SEND_RATE',
    kind: 'number',
    default: 60,
    min: 1,
    max: 240,
    tunable: true,
    doc: "The most frames per second any client is sent (at most the tick rate); a client may ask for less (`rate` message), and the server lowers a client's rate while its connection cannot keep up.",
  }),
  rateBacklogBytes: s({
    env: 'SWARMHOST_RATE_BACKLOG_BYTES',
    kind: 'int',
    default: 64 * 1024,
    min: 1024,
    max: 64 * 1024 * 1024,
    doc: "A client's unsent bytes, when a frame is due, above which the server steps its send rate down (60, 30, 20, 15, 10) for a while; keep it below SWARMHOST_SEND_HIGH_WATER_BYTES so rates drop before frames do.",
  }),
  rateRttSlackMs: s({
    env: 'SWARMHOST_RATE_RTT_SLACK_MS',
    kind: 'int',
    default: 50,
    min: 1,
    max: 60_000,
    doc: "A client's round trip above twice its best plus this also steps its send rate down, ms.",
  }),
  rateWindowMs: s({
    env: 'SWARMHOST_RATE_WINDOW_MS',
    kind: 'int',
    default: 1_000,
    min: 50,
    max: 600_000,
    doc: "How often a client's send rate is judged, ms: one step down per window that backed up.",
  }),
  rateRaiseAfterMs: s({
    env: 'SWARMHOST_RATE_RAISE_AFTER_MS',
    kind: 'int',
    default: 3_000,
    min: 50,
    max: 600_000,
    doc: 'Clean time before a lowered send rate steps back up, ms; doubled (up to 8x) each time a step up backs up again at once.',
  }),
  maxMessageBytes: s({
    env: 'SWARMHOST_MAX_MESSAGE_BYTES',
    kind: 'int',
    default: 4096,
    min: 64,
    max: 1024 * 1024,
    doc: 'Largest client message; larger closes with 1009.',
  }),
  helloTimeoutMs: s({
    env: 'SWARMHOST_HELLO_TIMEOUT_MS',
    kind: 'int',
    default: 5_000,
    min: 100,
    max: 600_000,
    doc: 'Time a new socket has to send its hello (else close 4001).',
  }),
  heartbeatMs: s({
    env: 'SWARMHOST_HEARTBEAT_MS',
    kind: 'int',
    default: 20_000,
    min: 100,
    max: 600_000,
    doc: 'Interval of WebSocket pings; a peer that answered neither the last ping nor anything else by the next one is cut off (keep it below proxy idle timeouts).',
  }),
  closeTimeoutMs: s({
    env: 'SWARMHOST_CLOSE_TIMEOUT_MS',
    kind: 'int',
    default: 2_000,
    min: 10,
    max: 60_000,
    doc: 'After the server sends a close frame, how long the peer has to answer it before the TCP connection is cut.',
  }),
  rateLimitPerSec: s({
    env: 'SWARMHOST_RATE_LIMIT_PER_SEC',
    kind: 'number',
    default: 120,
    min: 1,
    max: 100_000,
    doc: 'Messages per second a client may send (token bucket refill).',
  }),
  rateLimitBurst: s({
    env: 'SWARMHOST_RATE_LIMIT_BURST',
    kind: 'int',
    default: 240,
    min: 1,
    max: 1_000_000,
    doc: 'Token bucket size: messages a client may send at once.',
  }),
  rateLimitFloodSeconds: s({
    env: 'SWARMHOST_RATE_LIMIT_FLOOD_SECONDS',
    kind: 'int',
    default: 5,
    min: 1,
    max: 3600,
    doc: 'A client rate-limited in every second for this many seconds in a row is flooding: its socket is closed with 1008.',
  }),
  statsRatePerSec: s({
    env: 'SWARMHOST_STATS_RATE_PER_SEC',
    kind: 'number',
    default: 1,
    // Below one report per interval, well-behaved clients would be refused.
    min: 1000 / STATS_REPORT_INTERVAL_MS,
    max: 1000,
    doc: 'Stats reports per second a client may send (a token bucket of its own, besides the message rate limit); one more is refused with `rate_limited`. At least one per report interval (clients report every 2 s).',
  }),
  statsBurst: s({
    env: 'SWARMHOST_STATS_BURST',
    kind: 'int',
    default: 3,
    min: 1,
    max: 1000,
    doc: 'Token bucket size of the stats rate limit: reports a client may send at once.',
  }),
  statsWindowMs: s({
    env: 'SWARMHOST_STATS_WINDOW_MS',
    kind: 'int',
    default: 5 * STATS_REPORT_INTERVAL_MS,
    min: 2 * STATS_REPORT_INTERVAL_MS,
    max: 600_000,
    doc: "How recent a player's latest stats report must be to count in /status (`players`); at least two report intervals.",
  }),
  allowedOrigins: s({
    env: 'SWARMHOST_ALLOWED_ORIGINS',
    kind: 'list',
    default: Object.freeze([]) as readonly string[],
    pattern: /^[a-z][a-z0-9+.-]*:\/\/[^/\s?#]+$/,
    doc: "Comma-separated Origin values (`scheme://host[:port]`) allowed to open game sockets; others get 403 before the upgrade. Empty allows any site to open sockets from a visitor's browser: set it in production (docs/SECURITY.md).",
  }),
  trustProxy: s({
    env: 'SWARMHOST_TRUST_PROXY',
    kind: 'string',
    default: '',
    pattern: TRUST_PROXY_PATTERN,
    doc: 'Which proxies may say who the client is (X-Forwarded-For): empty trusts none (the peer address is the client), `true` trusts all, a number trusts that many hops, or a comma-separated list of addresses and CIDRs. Per-IP caps use the client address this yields.',
  }),
  maxSockets: s({
    env: 'SWARMHOST_MAX_SOCKETS',
    kind: 'int',
    default: 2_000,
    min: 1,
    max: 1_000_000,
    doc: 'Game sockets (open or opening) this instance holds at once; one more is refused with 503 before the upgrade.',
  }),
  maxSocketsPerIp: s({
    env: 'SWARMHOST_MAX_SOCKETS_PER_IP',
    kind: 'int',
    default: 64,
    min: 1,
    max: 1_000_000,
    doc: 'Game sockets one client address holds at once; one more is refused with 503 before the upgrade.',
  }),
  maxConnections: s({
    env: 'SWARMHOST_MAX_CONNECTIONS',
    kind: 'int',
    default: defaultMaxConnections(),
    defaultDoc: 'open-file limit - 128, at most 16384',
    min: 16,
    max: 1_000_000,
    doc: 'TCP connections (HTTP and WebSocket) held at once; beyond it new ones are dropped on accept, so the process never runs out of file descriptors.',
  }),
  maxConnectionsPerIp: s({
    env: 'SWARMHOST_MAX_CONNECTIONS_PER_IP',
    kind: 'int',
    default: 128,
    min: 1,
    max: 1_000_000,
    doc: 'TCP connections one peer address holds at once; beyond it new ones are dropped on accept. Applies only without SWARMHOST_TRUST_PROXY (behind a proxy every peer is the proxy: limit connections there).',
  }),
  requestTimeoutMs: s({
    env: 'SWARMHOST_REQUEST_TIMEOUT_MS',
    kind: 'int',
    default: 10_000,
    min: 100,
    max: 600_000,
    doc: 'Longest an HTTP request (headers and body) may take to arrive, and longest a connection may sit idle; slower ones are cut.',
  }),
  drainTimeoutMs: s({
    env: 'SWARMHOST_DRAIN_TIMEOUT_MS',
    kind: 'int',
    default: 10_000,
    min: 0,
    max: 600_000,
    doc: 'On SIGTERM, the longest the server waits for lobbies to drain before exiting.',
  }),
  drainDelayMs: s({
    env: 'SWARMHOST_DRAIN_DELAY_MS',
    kind: 'int',
    default: 2000,
    min: 0,
    max: 120_000,
    doc: "On SIGTERM, how long /readyz answers 503 before the lobbies are handed over (fleet mode) or drained and players are closed with 4005: time for the load balancer's health checks to see the instance leave, so reconnecting players go elsewhere.",
  }),
  adminToken: s({
    env: 'SWARMHOST_ADMIN_TOKEN',
    kind: 'string',
    default: '',
    secret: true,
    doc: 'Bearer token that the admin routes require (PATCH /config, POST /lobbies, PUT and DELETE /lobbies/:id, fault injection); empty disables them.',
  }),
  adminPort: s({
    env: 'SWARMHOST_ADMIN_PORT',
    kind: 'int',
    default: ADMIN_PORT_OFF,
    min: ADMIN_PORT_OFF,
    max: 65535,
    doc: 'Separate TCP port for /metrics, /status, /config and the admin routes, which then leave the public port; -1 keeps everything on PORT; 0 picks a free one.',
  }),
  adminHost: s({
    env: 'SWARMHOST_ADMIN_HOST',
    kind: 'string',
    default: '127.0.0.1',
    doc: 'Interface the admin port listens on (only with SWARMHOST_ADMIN_PORT); the default keeps it off the network.',
  }),
  adminAuthMaxFailures: s({
    env: 'SWARMHOST_ADMIN_AUTH_MAX_FAILURES',
    kind: 'int',
    default: 20,
    min: 1,
    max: 1_000_000,
    doc: 'Failed admin authentications (no or wrong token) one client IP may make per SWARMHOST_ADMIN_AUTH_WINDOW_MS; beyond it its admin requests get 429 until the window ends.',
  }),
  adminAuthWindowMs: s({
    env: 'SWARMHOST_ADMIN_AUTH_WINDOW_MS',
    kind: 'int',
    default: 60_000,
    min: 1000,
    max: 86_400_000,
    doc: 'Window over which failed admin authentications are counted per client IP.',
  }),
  workers: s({
    env: 'SWARMHOST_WORKERS',
    kind: 'int',
    default: Math.max(1, usableCores() - 1),
    defaultDoc: 'cores - 1',
    min: 0,
    max: 256,
    doc: 'Worker threads that run lobbies (default: cores - 1, at least 1, where cores are the usable ones: CPU affinity capped by a cgroup CPU quota); 0 runs lobbies on the main thread, for debugging.',
  }),
  workerNice: s({
    env: 'SWARMHOST_WORKER_NICE',
    kind: 'int',
    default: -10,
    min: -20,
    max: 19,
    doc: 'Nice value of the lobby worker threads (Linux): below 0 they get more of a busy CPU than socket work. Needs root or CAP_SYS_NICE, else a warning is logged and they keep the default; 0 leaves it alone.',
  }),
  workerRealtime: s({
    env: 'SWARMHOST_WORKER_REALTIME',
    kind: 'int',
    default: 1,
    min: 0,
    max: 99,
    doc: 'SCHED_RR priority of the lobby worker threads (Linux, via chrt): a due tick preempts socket work at once. Used only while workers < cores, so the main thread keeps a core; needs root or CAP_SYS_NICE, else a warning is logged and the nice value applies; 0 turns it off.',
  }),
  workerHeapMb: s({
    env: 'SWARMHOST_WORKER_HEAP_MB',
    kind: 'int',
    default: 1024,
    min: 32,
    max: 65_536,
    doc: 'JS heap limit of each lobby worker thread, in MB (particle arrays live outside it). A worker that exceeds it dies alone: it is replaced and its lobbies restart.',
  }),
  maxRestarts: s({
    env: 'SWARMHOST_MAX_RESTARTS',
    kind: 'int',
    default: 3,
    min: 0,
    max: 1000,
    doc: 'Restarts of one lobby allowed within SWARMHOST_RESTART_WINDOW_MS; one more marks it failed (clients closed with 1011).',
  }),
  restartWindowMs: s({
    env: 'SWARMHOST_RESTART_WINDOW_MS',
    kind: 'int',
    default: 60_000,
    min: 1000,
    max: 86_400_000,
    doc: 'Window over which lobby restarts are counted.',
  }),
  restartBackoffMs: s({
    env: 'SWARMHOST_RESTART_BACKOFF_MS',
    kind: 'int',
    default: 250,
    min: 0,
    max: 60_000,
    doc: 'Delay before the first restart of a crashed lobby; doubles with each further restart in the window.',
  }),
  faultInjection: s({
    env: 'SWARMHOST_FAULT_INJECTION',
    kind: 'bool',
    default: false,
    doc: 'Tests only: enables POST /lobbies/:id/fault (admin token required) to make a lobby throw or its worker die (exit, uncaught error, out of memory). Refused unless NODE_ENV is `development` or `test`.',
  }),
  redisUrl: s({
    env: 'SWARMHOST_REDIS_URL',
    kind: 'string',
    default: '',
    pattern: /^(|rediss?:\/\/\S+)$/,
    secret: true,
    doc: "Fleet mode: the Redis 7 that holds one owner per lobby (a lease with a fencing token), the lobbies' checkpoints and the fleet directory, e.g. `redis://redis:6379/0`. Empty (the default): one instance, no Redis.",
  }),
  redisPrefix: s({
    env: 'SWARMHOST_REDIS_PREFIX',
    kind: 'string',
    default: 'swarmhost',
    pattern: /^[A-Za-z0-9_.:-]{1,64}$/,
    doc: 'Fleet mode: prefix of every Redis key and channel, so several fleets can share one Redis.',
  }),
  redisTimeoutMs: s({
    env: 'SWARMHOST_REDIS_TIMEOUT_MS',
    kind: 'int',
    default: 1000,
    min: 50,
    max: 60_000,
    doc: 'Fleet mode: a Redis command that has not answered in this time fails (counted in `swarmhost_redis_errors_total`); while Redis is unreachable commands fail at once rather than queue.',
  }),
  leaseMs: s({
    env: 'SWARMHOST_LEASE_MS',
    kind: 'int',
    default: 3000,
    min: 300,
    max: 600_000,
    doc: "Fleet mode: how long a lobby's ownership lease lasts unless renewed (the owner renews every third of it). After a crash, the lobby can be taken over once its lease lapses.",
  }),
  checkpointIntervalMs: s({
    env: 'SWARMHOST_CHECKPOINT_INTERVAL_MS',
    kind: 'int',
    default: 5000,
    min: 100,
    max: 3_600_000,
    doc: 'Fleet mode: how often the owner checkpoints each running lobby into Redis: what a crash (kill -9) may lose at most.',
  }),
  checkpointTtlMs: s({
    env: 'SWARMHOST_CHECKPOINT_TTL_MS',
    kind: 'int',
    default: 86_400_000,
    min: 1000,
    max: 2_592_000_000,
    doc: 'Fleet mode: how long Redis keeps the checkpoint of a lobby nobody owns (after a drain or a crash with no player coming back) before forgetting it.',
  }),
  handoverWaitMs: s({
    env: 'SWARMHOST_HANDOVER_WAIT_MS',
    kind: 'int',
    default: 2000,
    min: 100,
    max: 60_000,
    doc: 'Fleet mode: the longest a join that reaches a non-owner waits for the owner to hand the lobby over (or its lease to lapse); past it the join is refused with 1013 and the client retries.',
  }),
  handoverDampingMs: s({
    env: 'SWARMHOST_HANDOVER_DAMPING_MS',
    kind: 'int',
    default: 5000,
    min: 0,
    max: 600_000,
    doc: 'Fleet mode: a lobby stays at least this long with an instance that took it over before a join elsewhere may move it again, so a flapping health check cannot bounce it every second (drains and lapsed leases are not damped).',
  }),
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

type ValueOf<S extends Setting> = S['kind'] extends 'int' | 'number'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'list'
      ? readonly string[]
      : string;

export type Config = Readonly<{ [K in SettingName]: ValueOf<(typeof SETTINGS)[K]> }>;

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`invalid configuration: ${setting}: ${message}`);
  }
}

function parseValue(
  name: string,
  setting: Setting,
  raw: string,
): number | string | boolean | readonly string[] {
  const { kind } = setting;
  if (kind === 'int' || kind === 'number') {
    const value = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(value))
      throw new ConfigError(name, `'${raw}' is not a number`);
    if (kind === 'int' && !Number.isInteger(value))
      throw new ConfigError(name, `'${raw}' is not an integer`);
    if (setting.min !== undefined && value < setting.min)
      throw new ConfigError(name, `${value} is below the minimum ${setting.min}`);
    if (setting.max !== undefined && value > setting.max)
      throw new ConfigError(name, `${value} is above the maximum ${setting.max}`);
    return value;
  }
  if (kind === 'bool') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(name, `'${raw}' is not a boolean (true/false)`);
  }
  if (kind === 'list') {
    const items = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    // A list's pattern applies to each item.
    const bad = setting.pattern && items.find((item) => !setting.pattern?.test(item));
    if (bad) throw new ConfigError(name, `'${bad}' does not match ${setting.pattern}`);
    return Object.freeze(items);
  }
  if (setting.oneOf && !setting.oneOf.includes(raw)) {
    throw new ConfigError(name, `'${raw}' is not one of ${setting.oneOf.join(', ')}`);
  }
  if (setting.pattern && !setting.pattern.test(raw)) {
    // A secret's value (a token, a URL with a password) never goes into the log.
    const shown = setting.secret ? 'the value (not shown: it is a secret)' : `'${raw}'`;
    throw new ConfigError(name, `${shown} does not match ${setting.pattern}`);
  }
  return raw;
}

/** Parses one setting's raw text with its rules (used by PATCH /config too). */
export function parseSetting(
  name: SettingName,
  raw: string,
): number | string | boolean | readonly string[] {
  const setting: Setting = SETTINGS[name];
  return parseValue(setting.env, setting, raw);
}

/** Command-line flags that override their environment variables (cli.ts lists them in --help). */
export const FLAGS: Readonly<Record<string, SettingName>> = { '--port': 'port', '--host': 'host' };

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  argv: readonly string[] = [],
): Config {
  const raw = new Map<SettingName, string>();
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const value = env[SETTINGS[name].env];
    if (value !== undefined) raw.set(name, value);
  }
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const name = FLAGS[flag];
    if (!name)
      throw new ConfigError(
        argv[i],
        `unknown argument (known: ${Object.keys(FLAGS).join(', ')}; see --help)`,
      );
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(flag, 'needs a value');
    raw.set(name, value);
  }
  const config: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const setting: Setting = SETTINGS[name];
    const value = raw.get(name);
    config[name] = value === undefined ? setting.default : parseValue(setting.env, setting, value);
  }
  // Unset, the budget follows the kernel asked for (app.ts lowers it too
  // when a wasm kernel asked for could not load).
  const budgetUnset = !raw.has('particleBudget');
  if (budgetUnset && config.kernel === 'js')
    config.particleBudget = jsKernelBudget(config.defaultParticles as number);
  if ((config.defaultParticles as number) > (config.maxParticles as number)) {
    throw new ConfigError(
      SETTINGS.defaultParticles.env,
      `must not exceed ${SETTINGS.maxParticles.env}`,
    );
  }
  if ((config.defaultParticles as number) > (config.particleBudget as number)) {
    throw new ConfigError(
      SETTINGS.defaultParticles.env,
      `must not exceed ${SETTINGS.particleBudget.env}: no lobby joined by URL would fit`,
    );
  }
  // An allow-list, not a deny-list: an unset, misspelt or differently cased
  // NODE_ENV ('Production', 'prod') must not open a route that kills workers.
  if (config.faultInjection === true && !FAULT_INJECTION_ENVS.includes(env.NODE_ENV ?? '')) {
    throw new ConfigError(
      SETTINGS.faultInjection.env,
      `fault injection needs NODE_ENV=${FAULT_INJECTION_ENVS.join(' or ')} (it is ${env.NODE_ENV === undefined ? 'unset' : JSON.stringify(env.NODE_ENV)})`,
    );
  }
  // Caught here with a clear message, not as EADDRINUSE at listen (0 picks a free port).
  if ((config.adminPort as number) > 0 && config.adminPort === config.port)
    throw new ConfigError(SETTINGS.adminPort.env, `must differ from ${SETTINGS.port.env}`);
  // Renewed every third of the lease: two renewals may fail before it lapses.
  if (config.redisUrl !== '' && (config.redisTimeoutMs as number) * 3 > (config.leaseMs as number))
    throw new ConfigError(
      SETTINGS.redisTimeoutMs.env,
      `must be at most a third of ${SETTINGS.leaseMs.env}: a slow renewal would let the lease lapse`,
    );
  if (config.instanceId === '')
    config.instanceId = `${hostname()}-${randomBytes(3).toString('hex')}`;
  const frozen = Object.freeze(config) as Config;
  if (budgetUnset) budgetLeftUnset.add(frozen);
  return frozen;
}

/** The defaults, validated: what `npm start` runs with. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  const config: Config = Object.freeze({ ...loadConfig({}), ...overrides });
  if (overrides.particleBudget === undefined) budgetLeftUnset.add(config);
  return config;
}
