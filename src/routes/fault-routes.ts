/**
 * POST /lobbies/:id/fault {kind}: test-only fault injection, registered only
 * when SWARMHOST_FAULT_INJECTION is on (refused in production by config
 * validation). `throw` makes the lobby's next tick throw; `exit`,
 * `uncaught` and `oom` kill the worker it runs on (lobby-messages.ts).
 */
import { FAULT_KINDS, type FaultKind } from '../../lobbies/lobby-messages.js';
import type { App } from '../app.js';

export function registerFaultRoutes(app: App): void {
  const { fastify, directory } = app;
  fastify.post<{ Params: { id: string }; Body: { kind: FaultKind } }>(
    '/lobbies/:id/fault',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['kind'],
          properties: { kind: { type: 'string', enum: [...FAULT_KINDS] } },
        },
      },
    },
    async (request, reply) => {
      const lobby = directory.get(request.params.id);
      if (!lobby)
        return reply
          .code(404)
          .send({ error: 'not_found', message: `no lobby '${request.params.id}'` });
      lobby.handle.injectFault(request.body.kind);
      fastify.log.warn({ lobby: request.params.id, kind: request.body.kind }, 'fault injected');
      return reply.code(202).send({ injected: request.body.kind });
    },
  );
}
