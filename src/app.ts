/**
 * Builds one server instance: Fastify with the WebSocket plugin, the lobby
 * directory on a lobby host, metrics, and the routes. Nothing listens until
 * the caller says so, which lets tests run many instances on port 0.
 *
 * With SWARMHOST_ADMIN_PORT the operator's routes (/metrics, /status,
 * /config, the admin routes) go on a second Fastify instance, `app.admin`,
 * which the caller listens on too, and the public one serves only players;
 * without it `app.admin` is `app.fastify`. Closing `app.fastify` closes both.
 */
import websocket, { type WebsocketPluginOptions } from '@fastify/websocket';
import type { Server } from 'node:http';
import Fastify, { type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import { PROTOCOL_VERSION } from '../protocol/index.js';
import {
  type Clock,
  InlineLobbyHost,
  type KernelSetting,
  type LobbyHost,
  loadWorldKernel,
  WorkerLobbyHost,
} from '../lobbies/index.js';
import { AdminAuth } from './admin-auth.js';
import { ADMIN_PORT_OFF, type Config, particleBudgetFor } from './config.js';
import { Fleet } from './fleet/fleet.js';
import { LobbyDirectory } from './lobby-directory.js';
import { limitConnections, trustProxyOption } from './connection-limits.js';
import { sendError } from './http-errors.js';
import { Metrics } from './metrics.js';
import { PlayerExperience } from './player-experience.js';
import { RequestLogs } from './request-logs.js';
import { registerFaultRoutes } from './routes/fault-routes.js';
import { registerHttpRoutes } from './routes/http-routes.js';
import { registerStatusRoutes } from './routes/status-routes.js';
import { registerLobbySocketRoute } from './routes/lobby-socket-route.js';
import { registerPageRoutes } from './routes/page-routes.js';
import { RuntimeSettings } from './runtime-settings.js';
import { SERVER_VERSION } from './version.js';
import { logWorkerStarted, workerPriorityRequest } from './worker-priority.js';

/** Most fragments one client message may arrive in. */
const MAX_MESSAGE_FRAGMENTS = 64;
/** How much later than the session's close timeout ws cuts a close left half done. */
const WS_CLOSE_TIMEOUT_MARGIN_MS = 250;

export interface AppOptions {
  /** Lobby clock; tests pass a FakeClock. */
  clock?: Clock;
  host?: LobbyHost;
  /** Pass lobby messages through structuredClone (proves they can cross threads). */
  cloneLobbyMessages?: boolean;
  logger?: boolean;
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: NodeJS.WritableStream;
  /** The wasm world kernel's file (default: where the build puts it); tests name a bad one. */
  worldKernelWasm?: string;
}

export interface App {
  fastify: FastifyInstance;
  /** Where the operator's routes are: its own listener with SWARMHOST_ADMIN_PORT, else `fastify`. */
  admin: FastifyInstance;
  /** The admin token check that admin routes run first. */
  adminAuth: AdminAuth;
  directory: LobbyDirectory;
  metrics: Metrics;
  config: Config;
  /** The settings PATCH /config may change while running. */
  settings: RuntimeSettings;
  /** Where lobbies run (worker threads, or inline). */
  host: LobbyHost;
  /** Whether /readyz answers 200: false once draining starts. */
  ready: boolean;
  /** Fleet mode (SWARMHOST_REDIS_URL): lobby ownership and hand-overs across instances. */
  fleet?: Fleet;
  /** Players' latest stats reports, per lobby (/status). */
  players: PlayerExperience;
  /** What steps the worlds of the lobbies this app's host runs (none when the caller brought the host). */
  worldKernel: 'wasm' | 'js' | undefined;
  /** Why the JS kernel runs where wasm was asked for (the warning logged at start). */
  worldKernelFallback?: string;
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const serverOptions = {
    logger:
      options.logger === false ? false : { level: config.logLevel, stream: options.logStream },
    // Probes' request lines at debug (request-logs.ts).
    logController: new RequestLogs(),
    // Lobby ids are short; anything long is not ours.
    routerOptions: { maxParamLength: 128 },
    // A request must arrive whole in time, and an idle connection goes:
    // slow bodies cannot hold descriptors for ever.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    // Node enforces the request timeout when it sweeps its connections, by
    // default every 30 s: sweep often enough that the timeout means what it says.
    http: { connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs) },
    // The client address (per-IP caps, logs) comes from X-Forwarded-For
    // only when a proxy is trusted.
    trustProxy: trustProxyOption(config.trustProxy),
    // A bad request body is refused, never quietly repaired: no stripping of
    // unknown fields, no turning "5" or true into numbers.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  } satisfies FastifyHttpOptions<Server>;
  const fastify = Fastify(serverOptions);
  const metrics = new Metrics({
    version: SERVER_VERSION,
    protocol: PROTOCOL_VERSION,
    instance: config.instanceId,
  });
  const restartPolicy = {
    maxRestarts: config.maxRestarts,
    windowMs: config.restartWindowMs,
    backoffMs: config.restartBackoffMs,
  };
  // One compile of the world kernel for every lobby and worker (unless the
  // caller brings its own host); a wasm kernel that cannot load is said
  // once here, and the JS one runs.
  const { kernel, fallback } = options.host
    ? { kernel: undefined, fallback: undefined }
    : loadWorldKernel(config.kernel as KernelSetting, options.worldKernelWasm);
  if (fallback) fastify.log.warn(fallback);
  // A particle budget left at its default follows the kernel that runs.
  const budget = kernel ? particleBudgetFor(config, kernel.kind) : config.particleBudget;
  if (budget !== config.particleBudget) {
    fastify.log.info(
      { particleBudget: budget },
      'particle budget per worker lowered for the JS kernel',
    );
    config = Object.freeze({ ...config, particleBudget: budget });
  }
  const workerPriority = workerPriorityRequest(config);
  if (workerPriority.note && config.workers > 0) fastify.log.info(workerPriority.note);
  // Lobbies run on worker threads unless SWARMHOST_WORKERS=0 (or a test
  // brings a fake clock, which only an inline lobby can run on).
  const host =
    options.host ??
    (config.workers === 0 || options.clock
      ? new InlineLobbyHost({
          clock: options.clock,
          frameRing: config.frameRing,
          cloneMessages: options.cloneLobbyMessages,
          restartPolicy,
          particleBudget: config.particleBudget,
          kernel,
        })
      : new WorkerLobbyHost({
          size: config.workers,
          frameRing: config.frameRing,
          restartPolicy,
          heapMb: config.workerHeapMb,
          particleBudget: config.particleBudget,
          kernel,
          maxPartitions: config.maxPartitions,
          priority: workerPriority.request,
          onWorkerStarted: (worker, priority) => logWorkerStarted(fastify.log, worker, priority),
          onWorkerExit: (worker, reason) =>
            fastify.log.error(
              { worker, reason },
              'lobby worker died; replaced, its lobbies restart',
            ),
        }));
  metrics.watchCapacity(() => host.capacity());
  const settings = new RuntimeSettings(config);
  const directory = new LobbyDirectory(config, settings, host, metrics, fastify.log);
  const admin =
    config.adminPort === ADMIN_PORT_OFF
      ? fastify
      : Fastify({
          ...serverOptions,
          // One log for both listeners.
          logger: undefined,
          loggerInstance:
            options.logger === false ? undefined : fastify.log.child({ listener: 'admin' }),
        });
  const adminAuth = new AdminAuth({ config, metrics, log: fastify.log });
  const app: App = {
    fastify,
    admin,
    adminAuth,
    directory,
    metrics,
    config,
    settings,
    host,
    ready: true,
    players: new PlayerExperience(config.statsWindowMs),
    worldKernel: kernel?.kind,
    worldKernelFallback: fallback,
  };
  if (kernel) metrics.worldKernel.set({ kernel: kernel.kind }, 1);
  if (admin !== fastify) fastify.addHook('onClose', async () => admin.close());
  if (config.redisUrl !== '') {
    const fleet = new Fleet(config, directory, metrics, fastify.log, () => app.ready);
    app.fleet = fleet;
    await fleet.start();
    fastify.addHook('onClose', async () => fleet.stop());
  }

  // Stopping the server stops every lobby and the threads they run on.
  fastify.addHook('onClose', async () => {
    directory.closeAll('server stopped');
    await host.shutdown();
  });
  // A peer that never answers our close frame must not hold shutdown for
  // ws's 30 s close timeout: close everyone, then cut whoever is left.
  fastify.addHook('preClose', async () => {
    for (const socket of fastify.websocketServer?.clients ?? [])
      socket.close(1001, 'server stopping');
    setTimeout(() => {
      for (const socket of fastify.websocketServer?.clients ?? []) socket.terminate();
    }, 1000).unref();
  });
  // Every error answers in one shape: {error: code, message}.
  fastify.setErrorHandler(
    (error: { statusCode?: number; code?: string; message: string }, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
      if (status >= 500) {
        request.log.error({ err: error }, 'request failed');
        return sendError(reply, 'internal_error');
      }
      // Fastify's own refusals (body too large, bad JSON...) keep their code.
      return reply
        .code(status)
        .send({ error: (error.code ?? 'bad_request').toLowerCase(), message: error.message });
    },
  );
  if (admin !== fastify) admin.setErrorHandler(fastify.errorHandler);
  limitConnections(fastify.server, config, metrics);
  // ws 8.23 takes `closeTimeout`; @types/ws does not list it yet.
  const wsOptions: WebsocketPluginOptions['options'] & { closeTimeout: number } = {
    maxPayload: config.maxMessageBytes,
    // A message is at most a few KB: a peer that splits one into more
    // fragments than this is wasting our time (ws closes it with 1008).
    maxFragments: MAX_MESSAGE_FRAGMENTS,
    // A close the peer starts, or one before a session exists (a 1013),
    // is timed by ws itself: a peer that leaves it half done is cut. A
    // little later than the session's own close timeout, which counts the
    // closes we start.
    closeTimeout: config.closeTimeoutMs + WS_CLOSE_TIMEOUT_MARGIN_MS,
  };
  await fastify.register(websocket, {
    options: wsOptions,
    // Called for errors on an open socket and for a handler that throws.
    // ws has already failed the connection on protocol errors (with the
    // right close code, which the session records); anything else closes
    // with 1011. Logged at debug only: a client can cause these at will.
    errorHandler: (error, socket) => {
      fastify.log.debug({ err: error }, 'websocket error');
      if (socket.readyState === socket.OPEN) socket.close(1011, 'internal error');
    },
  });
  registerHttpRoutes(app);
  registerStatusRoutes(onAdminListener(app));
  registerLobbySocketRoute(app);
  registerPageRoutes(app);
  if (config.faultInjection) registerFaultRoutes(app);
  return app;
}

/**
 * `app` for route modules that register on `app.fastify` but belong on the
 * admin listener: the same live object (reads of `ready` and the rest go
 * through to it), with `fastify` standing for `app.admin`.
 */
function onAdminListener(app: App): App {
  return app.admin === app.fastify
    ? app
    : (Object.create(app, { fastify: { value: app.admin } }) as App);
}
