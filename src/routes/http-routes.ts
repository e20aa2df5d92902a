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
  const { fastify, admin, adminAuth, directory, config, metrics, fleet } = app;
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
    const options = { id, particles: body.particles, seed: body.seed };
    // In fleet mode the id must be free fleet-wide, and the lobby is ours once made.
    const created = fleet ? await fleet.create(options) : directory.create(options);
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

  // In fleet mode: every instance's lobbies, each with its owner, from the
  // fleet directory (`complete: false` when Redis could not be read and only
  // this instance's are listed).
  fastify.get('/lobbies', async () => {
    if (!fleet) return { lobbies: directory.list() };
    const { lobbies, complete } = await fleet.list();
    return { lobbies, complete };
  });

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
    const id = request.params.id;
    const lobby = directory.get(id);
    if (lobby)
      return fleet
        ? { ...lobby.handle.currentStatus(), owner: config.instanceId }
        : lobby.handle.currentStatus();
    const elsewhere = await fleet?.find(id);
    if (elsewhere) return elsewhere;
    return sendError(reply, 'not_found', `no lobby '${quoteClientText(id)}'`);
  });

  admin.delete<{ Params: { id: string } }>(
    '/lobbies/:id',
    { onRequest: adminAuth.onRequest },
    async (request, reply) => {
      const id = request.params.id;
      const notFound = () => sendError(reply, 'not_found', `no lobby '${quoteClientText(id)}'`);
      if (!fleet) {
        if (!directory.close(id, 'closed by API')) return notFound();
        return reply.code(202).send({ status: 'closing' });
      }
      const removed = await fleet.remove(id);
      if (removed === 'closing') return reply.code(202).send({ status: 'closing' });
      // A dormant lobby (a checkpoint and no owner): its checkpoint is gone.
      if (removed === 'deleted') return reply.code(200).send({ status: 'deleted' });
      if (removed === 'not_found') return notFound();
      if (removed === 'unavailable') return sendError(reply, 'fleet_unavailable');
      return sendError(
        reply,
        'owned_elsewhere',
        `instance ${removed.owner} runs lobby '${quoteClientText(id)}': send the request through the load balancer`,
      );
    },
  );

  admin.get('/metrics', PROBE_ROUTE, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
