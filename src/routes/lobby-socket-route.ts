/**
 * GET /lobby/:id/ws: the game socket. Everything that can be refused before
 * the upgrade is, as a plain HTTP answer that costs no WebSocket: a bad id
 * (400), a draining instance (503), an Origin not on the allow-list (403),
 * a socket cap reached (503 with Retry-After). Everything after the upgrade
 * belongs to a ClientSession.
 */
import type { FastifyReply } from 'fastify';
import { CloseCode, LOBBY_ID_PATTERN } from '../../protocol/index.js';
import type { App } from '../app.js';
import { sendError } from '../http-errors.js';
import { ClientSession, type SessionContext } from '../client-session.js';
import { LogThrottle } from '../log-throttle.js';
import { SessionRegistry, type SocketCap } from '../session-registry.js';

/** How often an unexpected session error may be logged with its stack. */
const FAILURE_LOG_INTERVAL_MS = 10_000;
/** What a client refused by a socket cap is told to wait before trying again, seconds. */
const RETRY_AFTER_SECONDS = 5;

export function registerLobbySocketRoute(app: App): void {
  const { fastify, config, metrics, directory, settings } = app;
  const allowed = new Set(config.allowedOrigins);
  const registry = new SessionRegistry(config);
  registry.startHeartbeat();
  fastify.addHook('onClose', async () => registry.stop());
  const failures = new LogThrottle(fastify.log, { intervalMs: FAILURE_LOG_INTERVAL_MS });
  const { fleet } = app;
  const context: SessionContext = {
    config,
    settings,
    metrics,
    directory,
    players: app.players,
    join: fleet
      ? (id, session) => fleet.join(id, session)
      : (id, session) => directory.join(id, session),
    sendBatch: directory.sendBatch,
    log: fastify.log,
    logFailure: (error, lobbyId) =>
      failures.log('error', 'session', { err: error, lobby: lobbyId }, 'session handler failed'),
  };

  const refuseCap = (cap: SocketCap, reply: FastifyReply) => {
    metrics.handshakesRefused.inc({ reason: cap === 'total' ? 'socket_cap' : 'ip_socket_cap' });
    reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return cap === 'total'
      ? sendError(
          reply,
          'too_many_sockets',
          `this instance holds its maximum of ${config.maxSockets} game sockets`,
        )
      : sendError(
          reply,
          'too_many_sockets_from_address',
          `this address holds its maximum of ${config.maxSocketsPerIp} game sockets`,
        );
  };

  fastify.get<{ Params: { id: string } }>(
    '/lobby/:id/ws',
    {
      websocket: true,
      preValidation: async (request, reply) => {
        if (!LOBBY_ID_PATTERN.test(request.params.id)) {
          metrics.handshakesRefused.inc({ reason: 'bad_lobby_id' });
          return sendError(reply, 'bad_lobby_id');
        }
        if (!app.ready) {
          metrics.handshakesRefused.inc({ reason: 'draining' });
          return sendError(reply, 'draining');
        }
        const origin = request.headers.origin;
        if (allowed.size > 0 && (origin === undefined || !allowed.has(origin))) {
          metrics.handshakesRefused.inc({ reason: 'origin' });
          return sendError(reply, 'origin_not_allowed');
        }
        const cap = registry.admits(request.ip);
        if (cap) return refuseCap(cap, reply);
      },
    },
    (socket, request) => {
      const ip = request.ip;
      const cap = registry.register(ip);
      if (cap) {
        // Upgrades in flight together passed the first check: the cap still holds.
        metrics.handshakesRefused.inc({ reason: cap === 'total' ? 'socket_cap' : 'ip_socket_cap' });
        metrics.wsCloses.inc({ code: String(CloseCode.tryAgainLater) });
        socket.close(CloseCode.tryAgainLater, 'too many sockets: try again later');
        return;
      }
      let session: ClientSession | undefined;
      socket.once('close', () => registry.release(ip, session));
      session = new ClientSession(socket, request.params.id, context);
      registry.track(session);
    },
  );
}
