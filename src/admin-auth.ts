/**
 * Who may use the admin routes (PATCH /config, POST /lobbies, PUT and
 * DELETE /lobbies/:id, POST /lobbies/:id/fault): whoever sends
 * `Authorization: Bearer <SWARMHOST_ADMIN_TOKEN>`. Owns that check, its
 * answers, their metric (`swarmhost_admin_auth_failures_total{reason}`) and
 * their log lines. Routes use it as an `onRequest` hook, so a refused
 * request is answered before its body is read.
 *
 * Answers, in the order they are decided:
 *   403 admin_disabled   no token is configured (nothing to compare with)
 *   429 too_many_failures  this IP failed too often in the current window
 *                        (AuthThrottle), with Retry-After; the token is not
 *                        even compared
 *   401 unauthorized     no `Bearer <token>` header (WWW-Authenticate says so)
 *   403 forbidden        a wrong token
 * Missing and wrong tokens count towards the IP's throttle; a right one
 * forgives its failures. Wrong tokens and throttling are logged at warn, at
 * most once per IP per interval with the count of those left out.
 *
 * The IP is `request.ip`, which follows Fastify's trustProxy setting: behind
 * a load balancer without it, every client shares the balancer's address
 * (docs/OPERATIONS.md).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { AuthThrottle } from './auth-throttle.js';
import type { Config } from './config.js';
import { sendError } from './http-errors.js';
import { LogThrottle } from './log-throttle.js';
import type { Metrics } from './metrics.js';

/** Why an admin request was refused: the values of the metric's `reason` label. */
export const ADMIN_AUTH_FAILURES = [
  'missing_token',
  'wrong_token',
  'disabled',
  'throttled',
] as const;
export type AdminAuthFailure = (typeof ADMIN_AUTH_FAILURES)[number];

/** `Bearer <token>`, the scheme in any case; the token is any run of non-blank bytes. */
const BEARER = /^Bearer +([^ \t]+)$/i;

/** Refusal log lines: one per IP a minute, 50 a minute for all IPs together. */
const REFUSAL_LOG = { intervalMs: 60_000, maxLinesPerInterval: 50, maxKeys: 10_000 } as const;

export interface AdminAuthOptions {
  config: Pick<Config, 'adminToken' | 'adminAuthMaxFailures' | 'adminAuthWindowMs'>;
  metrics: Pick<Metrics, 'adminAuthFailures'>;
  log: FastifyBaseLogger;
  now?: () => number;
}

export class AdminAuth {
  /** Digest of the token's UTF-8 bytes; undefined when none is configured. */
  #expected: Buffer | undefined;
  #throttle: AuthThrottle;
  #metrics: AdminAuthOptions['metrics'];
  #refusals: LogThrottle;

  constructor({ config, metrics, log, now }: AdminAuthOptions) {
    this.#expected = config.adminToken === '' ? undefined : digest(Buffer.from(config.adminToken));
    this.#throttle = new AuthThrottle({
      maxFailures: config.adminAuthMaxFailures,
      windowMs: config.adminAuthWindowMs,
      now,
    });
    this.#metrics = metrics;
    this.#refusals = new LogThrottle(log, { ...REFUSAL_LOG, now });
  }

  /** Whether a token is configured (else every admin route is refused). */
  get enabled(): boolean {
    return this.#expected !== undefined;
  }

  /** IPs whose failures are remembered now (bounded). */
  get trackedIps(): number {
    return this.#throttle.size;
  }

  /** The `onRequest` hook of an admin route: passes the request on only with the admin token. */
  readonly onRequest = async (
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> => {
    // The route's pattern, never the raw URL: nothing the client chose is echoed.
    const what = `${request.method} ${request.routeOptions.url ?? ''}`;
    if (this.#expected === undefined) {
      this.#count('disabled');
      return sendError(
        reply,
        'admin_disabled',
        `${what} is an admin route, and admin routes are disabled: set SWARMHOST_ADMIN_TOKEN on the server to enable them, then send Authorization: Bearer <that token>`,
      );
    }
    const ip = request.ip;
    const waitMs = this.#throttle.retryAfterMs(ip);
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      this.#count('throttled');
      this.#warn(ip, { retryAfterSeconds: seconds }, 'admin requests throttled after failures');
      reply.header('retry-after', String(seconds));
      return sendError(
        reply,
        'too_many_failures',
        `too many failed admin authentications from this address; retry in ${seconds} s`,
      );
    }
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match) {
      this.#count('missing_token');
      this.#throttle.fail(ip);
      reply.header('www-authenticate', 'Bearer realm="swarmhost"');
      return sendError(
        reply,
        'unauthorized',
        `${what} needs the header Authorization: Bearer <SWARMHOST_ADMIN_TOKEN>`,
      );
    }
    // Node hands header bytes over as latin1: turn them back into the bytes
    // sent, so a token that is not ASCII matches its UTF-8 form.
    if (!timingSafeEqual(digest(Buffer.from(match[1], 'latin1')), this.#expected)) {
      this.#count('wrong_token');
      this.#throttle.fail(ip);
      this.#warn(ip, { route: what }, 'admin request with a wrong token');
      return sendError(reply, 'forbidden');
    }
    this.#throttle.succeed(ip);
    return undefined;
  };

  #count(reason: AdminAuthFailure): void {
    this.#metrics.adminAuthFailures.inc({ reason });
  }

  /** Logs a refusal unless this IP (or everyone) has logged enough this interval. */
  #warn(ip: string, fields: Record<string, unknown>, message: string): void {
    this.#refusals.log('warn', ip, { ip, ...fields }, message);
  }
}

/** SHA-256, so the constant-time comparison needs no equal lengths. */
function digest(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}
