/**
 * The HTTP API: health and readiness, the lobby REST resource and metrics.
 * (Pages live in page-routes.ts.) Bodies are JSON; errors are `{error, message}` with a
 * status that says whose fault it was.
 */
import { randomBytes } from 'node:crypto';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import type { App } from '../app.js';
import { SERVER_VERSION } from '../version.js';
import { LOBBY_ID_PATTERN } from '../../protocol/lobby-id.js';

interface CreateLobbyBody {
  id?: string;
  particles?: number;
  seed?: number;
}

export function registerHttpRoutes(app: App): void {
  const { fastify, directory, config, metrics } = app;

  fastify.get('/healthz', async () => ({
    status: 'ok',
    version: SERVER_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    instanceId: config.instanceId,
  }));

  fastify.get('/readyz', async (_request, reply) =>
    app.ready ? { status: 'ready' } : reply.code(503).send({ status: 'draining' }),
  );

  fastify.get('/lobbies', async () => ({ lobbies: directory.list() }));

  fastify.post<{ Body: CreateLobbyBody }>(
    '/lobbies',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            id: { type: 'string', pattern: LOBBY_ID_PATTERN.source },
            particles: { type: 'integer', minimum: 0, maximum: config.maxParticles },
            seed: { type: 'integer', minimum: 0, maximum: 0xffff_ffff },
          },
        },
      },
      // Answer schema failures in the same shape as every other error.
      attachValidation: true,
      // No body at all means "all defaults".
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      if (request.validationError) {
        return reply
          .code(400)
          .send({ error: 'invalid_body', message: request.validationError.message });
      }
      if (!app.ready)
        return reply
          .code(503)
          .send({ error: 'draining', message: 'this instance is shutting down' });
      const body = request.body ?? {};
      const created = directory.create({
        id: body.id ?? randomBytes(6).toString('base64url'),
        particles: body.particles,
        seed: body.seed,
      });
      if (!created.ok) {
        return reply
          .code(created.reason === 'exists' ? 409 : 503)
          .send({ error: created.reason, message: created.message });
      }
      return reply.code(201).send(created.lobby.handle.currentStatus());
    },
  );

  fastify.get<{ Params: { id: string } }>('/lobbies/:id', async (request, reply) => {
    const lobby = directory.get(request.params.id);
    if (!lobby)
      return reply
        .code(404)
        .send({ error: 'not_found', message: `no lobby '${request.params.id}'` });
    return lobby.handle.currentStatus();
  });

  fastify.delete<{ Params: { id: string } }>('/lobbies/:id', async (request, reply) => {
    if (!directory.close(request.params.id, 'closed by API')) {
      return reply
        .code(404)
        .send({ error: 'not_found', message: `no lobby '${request.params.id}'` });
    }
    return reply.code(202).send({ status: 'closing' });
  });

  fastify.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
