/**
 * GET /lobby/:id/ws: the game socket. The id and origin are checked before
 * the upgrade (a bad id is a plain 400); everything after the upgrade belongs
 * to a ClientSession.
 */
import { CloseCode } from '../../protocol/close-codes.js';
import type { App } from '../app.js';
import { ClientSession } from '../client-session.js';
import { BAD_LOBBY_ID, LOBBY_ID_PATTERN } from '../../protocol/lobby-id.js';

export function registerLobbySocketRoute(app: App): void {
  const { fastify, config, metrics, directory, settings } = app;
  const context = { config, settings, metrics, directory, log: fastify.log };
  const allowed = new Set(config.allowedOrigins);

  fastify.get<{ Params: { id: string } }>(
    '/lobby/:id/ws',
    {
      websocket: true,
      preValidation: async (request, reply) => {
        if (!LOBBY_ID_PATTERN.test(request.params.id)) {
          metrics.handshakesRefused.inc({ reason: 'bad_lobby_id' });
          return reply.code(400).send(BAD_LOBBY_ID);
        }
        if (!app.ready) {
          metrics.handshakesRefused.inc({ reason: 'draining' });
          return reply
            .code(503)
            .send({ error: 'draining', message: 'this instance is shutting down' });
        }
      },
    },
    (socket, request) => {
      const origin = request.headers.origin;
      if (allowed.size > 0 && (origin === undefined || !allowed.has(origin))) {
        metrics.handshakesRefused.inc({ reason: 'origin' });
        metrics.wsCloses.inc({ code: String(CloseCode.policy) });
        socket.close(CloseCode.policy, 'origin not allowed');
        return;
      }
      new ClientSession(socket, request.params.id, context);
    },
  );
}
