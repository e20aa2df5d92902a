/**
 * The HTTP API: health and readiness, the lobby REST resource and metrics.
 * (Pages live in page-routes.ts.) Bodies are JSON; errors are `{error, message}` with a
 * status that says whose fault it was.
 *
 * Players' routes (health, readiness, reading lobbies) are on `app.fastify`;
 * the operator's (creating and deleting lobbies, behind the admin token, and
 * /metrics) on `app.admin`, its own listener when SWARMHOST_ADMIN_PORT is set.
 * Players create lobbies by joining them (/lobby/:id/ws), at the default size.
 * Health, readiness and metrics are probes: their requests log at debug
 * (request-logs.ts).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LOBBY_ID_PATTERN, PROTOCOL_VERSION, quoteClientText } from '../../protocol/index.js';
import type { App } from '../app.js';
import { sendError } from '../http-errors.js';
import { PROBE_ROUTE } from '../request-logs.js';
import { SERVER_VERSION } from '../version.js';

interface CreateLobbyBody {
  id?: string;
  particles?: number;
  seed?: number;
}

export function registerHttpRoutes(app: App): void {
  const { fastify, admin, adminAuth, directory, config, metrics } = app;
  const properties = {
    particles: { type: 'integer', minimum: 0, maximum: config.maxParticles },
    seed: { type: 'integer', minimum: 0, maximum: 0xffff_ffff },
  } as const;
  const createOptions = (withId: boolean) => ({
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        properties: withId
          ? { id: { type: 'string', pattern: LOBBY_ID_PATTERN.source }, ...properties }
          : properties,
      },
    },
    // The token before anything else, the body included.
    onRequest: adminAuth.onRequest,
    // Answer schema failures in the same shape as every other error.
    attachValidation: true,
    // No body at all means "all defaults".
    preValidation: async (request: { body: unknown }) => {
      request.body ??= {};
    },
  });

  /** Creates lobby `id` from a validated body: 201 with its status, 409 if it exists. */
  const create = async (
    request: FastifyRequest<{ Body: CreateLobbyBody }>,
    reply: FastifyReply,
    id: string,
  ) => {
    if (request.validationError) {
      return sendError(reply, 'invalid_body', request.validationError.message);
    }
    if (!app.ready) return sendError(reply, 'draining');
    const body = request.body ?? {};
    const created = directory.create({ id, particles: body.particles, seed: body.seed });
    if (!created.ok) {
      return sendError(reply, created.reason, created.message);
    }
    return reply.code(201).send(created.lobby.handle.currentStatus());
  };

  fastify.get('/healthz', PROBE_ROUTE, async () => ({
    status: 'ok',
    version: SERVER_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    instanceId: config.instanceId,
  }));

  fastify.get('/readyz', PROBE_ROUTE, async (_request, reply) =>
    app.ready ? { status: 'ready' } : reply.code(503).send({ status: 'draining' }),
  );

  fastify.get('/lobbies', async () => ({ lobbies: directory.list() }));

  admin.post<{ Body: CreateLobbyBody }>('/lobbies', createOptions(true), (request, reply) =>
    create(request, reply, request.body?.id ?? randomBytes(6).toString('base64url')),
  );

  // PUT names the lobby in the path, so a load balancer can route it.
  admin.put<{ Params: { id: string }; Body: CreateLobbyBody }>(
    '/lobbies/:id',
    createOptions(false),
    (request, reply) =>
      LOBBY_ID_PATTERN.test(request.params.id)
        ? create(request, reply, request.params.id)
        : sendError(reply, 'bad_lobby_id'),
  );

  fastify.get<{ Params: { id: string } }>('/lobbies/:id', async (request, reply) => {
    const lobby = directory.get(request.params.id);
    if (!lobby)
      return sendError(reply, 'not_found', `no lobby '${quoteClientText(request.params.id)}'`);
    return lobby.handle.currentStatus();
  });

  admin.delete<{ Params: { id: string } }>(
    '/lobbies/:id',
    { onRequest: adminAuth.onRequest },
    async (request, reply) => {
      if (!directory.close(request.params.id, 'closed by API')) {
        return sendError(reply, 'not_found', `no lobby '${quoteClientText(request.params.id)}'`);
      }
      return reply.code(202).send({ status: 'closing' });
    },
  );

  admin.get('/metrics', PROBE_ROUTE, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
