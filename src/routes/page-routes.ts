/**
 * The browser pages: `/` (the landing page), `/lobby/:id` (the client) and
 * `/assets/*` (their bundles and stylesheet). All are static files built by
 * `npm run build` into dist/client/ (client/build.ts) and served from here,
 * so the server needs no CDN and works offline.
 *
 * The lobby page names its lobby (title and HUD) before any script runs:
 * the server writes the id, HTML-escaped, where lobby.html says
 * `__LOBBY_ID__`.
 *
 * Files are read from disk on request, which keeps a rebuilt client visible
 * without a restart; they are few and small, and pages are opened rarely
 * compared with the game socket. Only names that exist in the assets
 * directory are served (no path handling, so no traversal).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import { BAD_LOBBY_ID, LOBBY_ID_PATTERN } from '../../protocol/lobby-id.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * dist/client of this checkout. The package root is the nearest directory
 * with a package.json above this file, whether it runs from source
 * (src/routes) or compiled (dist/src/routes).
 */
export function defaultClientDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('page routes: no package.json above this file');
    dir = parent;
  }
  return join(dir, 'dist', 'client');
}

export function registerPageRoutes(app: App, clientDir = defaultClientDir()): void {
  const { fastify } = app;
  const assetsDir = join(clientDir, 'assets');

  fastify.get('/', (request, reply) => sendFile(request, reply, join(clientDir, 'index.html')));

  fastify.get<{ Params: { id: string } }>('/lobby/:id', (request, reply) => {
    if (!LOBBY_ID_PATTERN.test(request.params.id)) {
      return reply.code(400).send(BAD_LOBBY_ID);
    }
    // One page for every lobby; the client reads the id from its URL too.
    const id = escapeHtml(request.params.id);
    return sendFile(request, reply, join(clientDir, 'lobby.html'), (html) =>
      html.replaceAll(LOBBY_ID_MARKER, id),
    );
  });

  fastify.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const { name } = request.params;
    const names = await readdir(assetsDir).catch(() => [] as string[]);
    if (!names.includes(name) || !(extname(name) in CONTENT_TYPES)) {
      return reply.code(404).send({ error: 'not_found', message: `no asset '${name}'` });
    }
    return sendFile(request, reply, join(assetsDir, name));
  });
}

/** Where lobby.html wants the lobby id. */
const LOBBY_ID_MARKER = '__LOBBY_ID__';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
  fill?: (text: string) => string,
): Promise<FastifyReply> {
  let body: Buffer;
  try {
    body = await readFile(path);
    if (fill) body = Buffer.from(fill(body.toString('utf8')));
  } catch {
    return reply.code(503).send({
      error: 'client_not_built',
      message: 'the browser client is not built: run `npm run build`',
    });
  }
  // Revalidate every time (cheap: a 304 when unchanged), so a deploy is
  // never mixed with a cached older bundle.
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  reply.header('cache-control', 'no-cache').header('etag', etag);
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.type(CONTENT_TYPES[extname(path)] ?? 'application/octet-stream').send(body);
}
