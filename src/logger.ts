/** The logger type the server passes around: Fastify's pino instance (JSON lines). */
export type { FastifyBaseLogger as Logger } from 'fastify';
