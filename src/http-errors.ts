/**
 * Every HTTP error the server answers with, in one table: the code (the
 * `error` field of the `{error, message}` body), its status, and a default
 * message. Routes answer through `sendError`, so a code always comes with
 * the same status, and docs/PROTOCOL.md lists them all (a test keeps it so).
 * Fastify's own errors (a body too large, bad JSON) keep their codes and
 * statuses; the error handler in app.ts gives them the same shape.
 */
import type { FastifyReply } from 'fastify';
import { BAD_LOBBY_ID } from '../protocol/index.js';

export const HTTP_ERRORS = {
  invalid_body: { status: 400, message: 'the request body is not valid' },
  bad_lobby_id: { status: 400, message: BAD_LOBBY_ID.message },
  invalid_setting: { status: 400, message: 'not a valid runtime setting' },
  unauthorized: {
    status: 401,
    message: 'this route needs the header Authorization: Bearer <SWARMHOST_ADMIN_TOKEN>',
  },
  forbidden: { status: 403, message: 'wrong admin token' },
  admin_disabled: {
    status: 403,
    message: 'admin routes are disabled: set SWARMHOST_ADMIN_TOKEN on the server to enable them',
  },
  origin_not_allowed: {
    status: 403,
    message: 'this Origin may not open game sockets (SWARMHOST_ALLOWED_ORIGINS)',
  },
  not_found: { status: 404, message: 'not found' },
  exists: { status: 409, message: 'it exists already' },
  owned_elsewhere: {
    status: 409,
    message:
      'another instance of the fleet runs this lobby: send the request through the load balancer',
  },
  too_many_failures: {
    status: 429,
    message: 'too many failed admin authentications from this address',
  },
  internal_error: { status: 500, message: 'internal server error' },
  draining: { status: 503, message: 'this instance is shutting down' },
  instance_full: { status: 503, message: 'instance full: no worker has room for the lobby' },
  too_many_lobbies: { status: 503, message: 'this instance hosts its maximum of lobbies' },
  fleet_unavailable: {
    status: 503,
    message: 'the fleet directory (Redis) is unreachable: try again',
  },
  too_many_sockets: { status: 503, message: 'this instance holds its maximum of game sockets' },
  too_many_sockets_from_address: {
    status: 503,
    message: 'this address holds its maximum of game sockets',
  },
  client_not_built: {
    status: 503,
    message: 'the browser client is not built: run npm run build',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** Answers `{error: code, message}` with the code's status. */
export function sendError(
  reply: FastifyReply,
  code: HttpErrorCode,
  message: string = HTTP_ERRORS[code].message,
): FastifyReply {
  return reply.code(HTTP_ERRORS[code].status).send({ error: code, message });
}
