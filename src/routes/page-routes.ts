/**
 * The browser pages: `/` (the landing page), `/lobby/:id` (the client) and
 * `/assets/*` (their bundles and stylesheet). All are static files built by
 * `npm run build` into dist/client/ (client/build.ts) and served from here,
 * so the server needs no CDN and works offline.
 *
 * The lobby page names its lobby (title and HUD) before any script runs:
 * the server writes the id, HTML-escaped, where lobby.html says
 * `__LOBBY_ID__`. A bad id gets a page saying what is wrong (or the JSON
 * error, for a client that did not ask for HTML); `/lobby/<id>/` redirects
 * to `/lobby/<id>`.
 *
 * Nothing here or in the pages names an absolute path of ours (the
 * redirect's Location is `../<id>`, the error page's link and the pages'
 * asset, API and socket URLs are relative), so everything works behind a
 * proxy that serves us under a path prefix such as `/swarm/` and strips it.
 *
 * Assets are served by @fastify/static: files of dist/client/assets only
 * (no directory listing; `..`, encoded or not, is refused), with a weak
 * ETag from size and mtime and `Cache-Control: no-cache`. The build names
 * files `lobby.js`, not by hash, so a browser must revalidate every time
 * (a cheap 304) for a rebuild never to mix with a cached older bundle; and
 * the files are looked up on request, so a running server serves a rebuilt
 * client without a restart. The two pages are read on request for the same
 * reason; they are small and opened rarely compared with the game socket.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import { HTTP_ERRORS, sendError } from '../http-errors.js';
import { LOBBY_ID_PATTERN, LOBBY_ID_RULE } from '../../protocol/index.js';
import { errorPage, escapeHtml, homeHref, wantsHtml } from './error-page.js';

/** The 404 message for anything under /assets/ that is not one of its files. */
const NO_ASSET = 'no such asset';

const PAGE_TYPE = 'text/html; charset=utf-8';

/**
 * @fastify/static's refusals: a path it will not resolve (`..`, `//`, `\`)
 * and a directory (no index, no listing) are both 403 errors.
 */
const isRefusal = (error: { code?: string; statusCode?: number }): boolean =>
  error.code === 'FST_STATIC_FORBIDDEN_PATH' || error.statusCode === 403;

/** How much of a bad id the error page repeats back. */
const SHOWN_ID_CHARS = 80;

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

/** Registers the pages on `app.fastify`: the public listener, never the admin one. */
export function registerPageRoutes(app: App, clientDir = defaultClientDir()): void {
  const { fastify } = app;

  fastify.get('/', (request, reply) => sendPage(request, reply, join(clientDir, 'index.html')));

  const lobbyPage = (request: FastifyRequest, reply: FastifyReply, id: string) =>
    // One page for every lobby; the client reads the id from its URL too.
    sendPage(request, reply, join(clientDir, 'lobby.html'), (html) =>
      html.replaceAll(LOBBY_ID_MARKER, escapeHtml(id)),
    );

  fastify.get<{ Params: { id: string } }>('/lobby/:id', (request, reply) => {
    const { id } = request.params;
    if (!LOBBY_ID_PATTERN.test(id)) return badLobbyId(request, reply, id);
    return lobbyPage(request, reply, id);
  });

  // Whatever else is under /lobby/ and is not the socket route: `<id>/`,
  // an id longer than the router's parameter limit, deeper paths.
  fastify.get<{ Params: { '*': string } }>(
    '/lobby/*',
    // A socket upgrade here is never a page: refuse it before
    // @fastify/websocket would accept it (and close it at once). Only an id
    // beyond the router's limit makes `<id>/ws` land here: it is refused
    // and counted as the socket route refuses a bad id.
    { onRequest: async (request, reply) => refuseUpgrade(app, request, reply) },
    (request, reply) => {
      const rest = request.params['*'];
      const slash = rest.indexOf('/');
      if (slash !== -1 && slash !== rest.length - 1) {
        return sendError(reply, 'not_found', 'no such page');
      }
      const id = slash === -1 ? rest : rest.slice(0, -1);
      if (!LOBBY_ID_PATTERN.test(id)) return badLobbyId(request, reply, id);
      if (slash === -1) return lobbyPage(request, reply, id);
      // The Location is built from the checked id and a re-encoded query,
      // never from the raw path: it can only name a lobby page of ours.
      const query = new URLSearchParams(new URL(request.url, 'http://localhost').search).toString();
      // Relative (`../<id>` from `/lobby/<id>/`), so a proxy's path prefix is kept.
      return reply.redirect(`../${encodeURIComponent(id)}${query ? `?${query}` : ''}`, 301);
    },
  );

  fastify.register(
    async (assets: FastifyInstance) => {
      // A missing file and a refused path are the same answer: nothing
      // tells a prober which paths exist outside the directory.
      assets.setNotFoundHandler((_request, reply) => sendError(reply, 'not_found', NO_ASSET));
      const inherited = assets.errorHandler;
      assets.setErrorHandler((error: { code?: string; statusCode?: number }, request, reply) =>
        isRefusal(error)
          ? sendError(reply, 'not_found', NO_ASSET)
          : inherited.call(assets, error as Error, request, reply),
      );
      await assets.register(fastifyStatic, {
        root: join(clientDir, 'assets'),
        prefix: '/',
        // Looked up per request (not globbed at start): a rebuild shows at once.
        wildcard: true,
        index: false,
        list: false,
        redirect: false,
        dotfiles: 'ignore',
        decorateReply: false,
        etag: true,
        lastModified: true,
        cacheControl: false,
        setHeaders: (reply, path) => {
          reply.header('cache-control', 'no-cache');
          // RFC 9239's type for scripts (send's table still says application/javascript).
          if (extname(path) === '.js') reply.type('text/javascript; charset=utf-8');
        },
        // A server whose client is not built answers 404 here (and 503 on the pages).
        suppressWarning: true,
      });
    },
    { prefix: '/assets' },
  );
}

function refuseUpgrade(
  app: App,
  request: FastifyRequest<{ Params: { '*': string } }>,
  reply: FastifyReply,
): FastifyReply | undefined {
  if (!request.ws) return undefined;
  const parts = request.params['*'].split('/');
  if (parts.length === 2 && parts[1] === 'ws') {
    app.metrics.handshakesRefused.inc({ reason: 'bad_lobby_id' });
    return sendError(reply, 'bad_lobby_id');
  }
  return sendError(reply, 'not_found', 'no such socket route');
}

/** Where lobby.html wants the lobby id. */
const LOBBY_ID_MARKER = '__LOBBY_ID__';

/** 400: a page saying what a lobby id is for a browser, the JSON error for anyone else. */
function badLobbyId(request: FastifyRequest, reply: FastifyReply, id: string): FastifyReply {
  if (!wantsHtml(request)) return sendError(reply, 'bad_lobby_id');
  reply.code(HTTP_ERRORS.bad_lobby_id.status);
  const shown = id.length > SHOWN_ID_CHARS ? `${id.slice(0, SHOWN_ID_CHARS)}…` : id;
  const what = id === '' ? 'An empty name' : `"${shown}"`;
  return reply
    .type(PAGE_TYPE)
    .header('cache-control', 'no-store')
    .send(
      errorPage(
        'Not a lobby id',
        `${what} is not a lobby id: ${LOBBY_ID_RULE}.`,
        homeHref(request.url),
      ),
    );
}

async function sendPage(
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
    return sendError(reply, 'client_not_built');
  }
  // Revalidate every time (cheap: a 304 when unchanged), so a deploy is
  // never mixed with a cached older page.
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  reply.header('cache-control', 'no-cache').header('etag', etag);
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.type(extname(path) === '.html' ? PAGE_TYPE : 'application/octet-stream').send(body);
}
