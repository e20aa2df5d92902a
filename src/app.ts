/**
 * Builds one server instance: Fastify with the WebSocket plugin, the lobby
 * directory on a lobby host, metrics, and the routes. Nothing listens until
 * the caller says so, which lets tests run many instances on port 0.
 */
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import type { Clock } from '../lobbies/clock.js';
import { InlineLobbyHost, type LobbyHost } from '../lobbies/lobby-host.js';
import { WorkerLobbyHost } from '../lobbies/worker-pool.js';
import type { Config } from './config.js';
import { LobbyDirectory } from './lobby-directory.js';
import { Metrics } from './metrics.js';
import { registerFaultRoutes } from './routes/fault-routes.js';
import { registerHttpRoutes } from './routes/http-routes.js';
import { registerStatusRoutes } from './routes/status-routes.js';
import { registerLobbySocketRoute } from './routes/lobby-socket-route.js';
import { registerPageRoutes } from './routes/page-routes.js';
import { RuntimeSettings } from './runtime-settings.js';
import { SERVER_VERSION } from './version.js';
import { logWorkerStarted, workerPriorityRequest } from './worker-priority.js';

export interface AppOptions {
  /** Lobby clock; tests pass a FakeClock. */
  clock?: Clock;
  host?: LobbyHost;
  /** Pass lobby messages through structuredClone (proves they can cross threads). */
  cloneLobbyMessages?: boolean;
  logger?: boolean;
}

export interface App {
  fastify: FastifyInstance;
  directory: LobbyDirectory;
  metrics: Metrics;
  config: Config;
  /** The settings PATCH /config may change while running. */
  settings: RuntimeSettings;
  /** Where lobbies run (worker threads, or inline). */
  host: LobbyHost;
  /** Whether /readyz answers 200: false once draining starts. */
  ready: boolean;
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const fastify = Fastify({
    logger: options.logger === false ? false : { level: config.logLevel },
    // Lobby ids are short; anything long is not ours.
    routerOptions: { maxParamLength: 128 },
    // A bad request body is refused, never quietly repaired: no stripping of
    // unknown fields, no turning "5" or true into numbers.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  });
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
        })
      : new WorkerLobbyHost({
          size: config.workers,
          frameRing: config.frameRing,
          restartPolicy,
          heapMb: config.workerHeapMb,
          particleBudget: config.particleBudget,
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
  const app: App = { fastify, directory, metrics, config, settings, host, ready: true };

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
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      return reply.code(status).send({
        error: status >= 500 ? 'internal_error' : (error.code ?? 'bad_request').toLowerCase(),
        message: status >= 500 ? 'internal server error' : error.message,
      });
    },
  );
  await fastify.register(websocket, { options: { maxPayload: config.maxMessageBytes } });
  registerHttpRoutes(app);
  registerStatusRoutes(app);
  registerLobbySocketRoute(app);
  registerPageRoutes(app);
  if (config.faultInjection) registerFaultRoutes(app);
  return app;
}
