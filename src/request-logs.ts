/**
 * Which level each request's own log lines ('incoming request', 'request
 * completed') go at. Routes that load balancers and Prometheus poll every
 * few seconds (/healthz, /readyz, /metrics: they say `PROBE_ROUTE`) log
 * them at debug, so an info log shows people, not probes; every other route,
 * and a probe that fails, logs as Fastify does. Installed on both listeners
 * through Fastify's `logController` option (app.ts).
 *
 * Not the route option `logLevel: 'debug'`: that sets the least level the
 * route logs at, so its info lines would still show, and it would turn on
 * the route's debug lines under SWARMHOST_LOG_LEVEL=info.
 */
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Polled by machines: the request's own log lines go at debug. */
    probe?: boolean;
  }
}

/** Route options of a probe route. */
export const PROBE_ROUTE = { config: { probe: true } } as const;

const isProbe = (request: FastifyRequest): boolean => request.routeOptions.config?.probe === true;

export class RequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    if (!isProbe(request)) return super.incomingRequest(request, reply);
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    // A probe that fails is news: logged as any other request.
    if (!isProbe(request) || error) return super.requestCompleted(error, request, reply);
    if (!this.isLogDisabled(request))
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
