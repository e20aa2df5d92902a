/**
 * POST /lobbies/:id/fault {kind}: test-only fault injection, registered only
 * when SWARMHOST_FAULT_INJECTION is on (which config validation allows only
 * with NODE_ENV development or test), on the admin listener and behind the
 * admin token like any admin route. `throw` makes the lobby's next tick
 * throw; `exit`, `uncaught` and `oom` kill the worker it runs on
 * (lobby-messages.ts).
 */
import { FAULT_KINDS, type FaultKind } from '../../lobbies/index.js';
import { quoteClientText } from '../../protocol/index.js';
import type { App } from '../app.js';
import { sendError } from '../http-errors.js';

export function registerFaultRoutes(app: App): void {
  const { admin, adminAuth, directory } = app;
  admin.post<{ Params: { id: string }; Body: { kind: FaultKind } }>(
    '/lobbies/:id/fault',
    {
      onRequest: adminAuth.onRequest,
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
        return sendError(reply, 'not_found', `no lobby '${quoteClientText(request.params.id)}'`);
      lobby.handle.injectFault(request.body.kind);
      admin.log.warn({ lobby: request.params.id, kind: request.body.kind }, 'fault injected');
      return reply.code(202).send({ injected: request.body.kind });
    },
  );
}
