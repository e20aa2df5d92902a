/** The page routes over plain HTTP: what is served, what is refused, how it is cached. */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { metricValue } from '../support/metrics.js';
import { startServer, type TestServer } from '../support/server.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A GET with the path sent byte for byte: fetch (WHATWG URL) would resolve
 * `/assets/%2e%2e/x` to `/x` before sending, which tests nothing.
 */
function rawGet(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What a browser sends when it navigates to a page. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('page routes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 100 });
  });
  afterAll(async () => server.close());

  it('serves the landing page and the lobby page as HTML', async () => {
    // Relative (a proxy may serve us under a path prefix: path-prefix.test.ts).
    for (const [path, script] of [
      ['/', '"assets/landing.js"'],
      ['/lobby/some-lobby_1', '"../assets/lobby.js"'],
    ]) {
      const res = await fetch(`${server.http}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await res.text()).toContain(script);
    }
  });

  it('names the lobby in the lobby page before any script runs', async () => {
    const html = await (await fetch(`${server.http}/lobby/named_1`)).text();
    expect(html).toContain('<title>named_1 · swarmhost</title>');
    expect(html).toContain('<strong id="lobby-id">named_1</strong>');
    expect(html).not.toContain('__LOBBY_ID__');
  });

  it('refuses a bad lobby id with the JSON error to a client that did not ask for HTML', async () => {
    for (const accept of ['*/*', 'application/json']) {
      const res = await fetch(`${server.http}/lobby/bad.id`, { headers: { accept } });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'bad_lobby_id' });
    }
  });

  it('shows a browser a page saying what a lobby id is, with status 400', async () => {
    const tooLong = 'x'.repeat(65); // within the router's parameter limit
    const wayTooLong = 'y'.repeat(300); // beyond it: another route, the same answer
    // The link home is relative, one `../` per level: it resolves to `/`.
    for (const [path, shown, home] of [
      ['/lobby/bad%20id!', '&#34;bad id!&#34;', '../'],
      ['/lobby/%3Cb%3Ehi%3C%2Fb%3E', '&#34;&#60;b&#62;hi&#60;/b&#62;&#34;', '../'],
      [`/lobby/${tooLong}`, tooLong, '../'],
      [`/lobby/${wayTooLong}`, `${'y'.repeat(80)}…`, '../'],
      [`/lobby/${wayTooLong}/`, `${'y'.repeat(80)}…`, '../../'],
      ['/lobby/bad%20id!/', '&#34;bad id!&#34;', '../../'],
    ]) {
      const res = await fetch(`${server.http}${path}`, { headers: { accept: BROWSER_ACCEPT } });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      const html = await res.text();
      expect(html, path).toContain('<h1>Not a lobby id</h1>');
      expect(html, path).toContain('1 to 64 letters');
      expect(html, path).toContain(`<a href="${home}">`);
      expect(new URL(home, `${server.http}${path}`).pathname, path).toBe('/');
      expect(html, path).toContain(shown);
      expect(html, path).not.toContain('<b>'); // the id is escaped, never markup
    }
  });

  it('redirects /lobby/<id>/ to /lobby/<id>, keeping the query, never anywhere else', async () => {
    // The Location is relative (`../<id>`), so a proxy's path prefix is kept.
    for (const [path, location] of [
      ['/lobby/demo/', '../demo'],
      ['/lobby/demo/?delay=250', '../demo?delay=250'],
      ['/lobby/demo/?x=%0d%0aSet-Cookie:%20a', '../demo?x=%0D%0ASet-Cookie%3A+a'],
    ]) {
      const res = await fetch(`${server.http}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(301);
      expect(res.headers.get('location'), path).toBe(location);
      const resolved = new URL(location, `${server.http}${path}`);
      expect(resolved.pathname, path).toBe('/lobby/demo');
      expect(new URL(location, `http://proxy.test/swarm${path}`).pathname, path).toBe(
        '/swarm/lobby/demo',
      );
      expect(res.headers.get('set-cookie'), path).toBeNull();
    }
    // Paths that could turn into another host or path are not redirects.
    for (const path of [
      '//evil.example/',
      '/lobby//evil.example/',
      '/lobby/a/b/',
      '/lobby/demo//',
    ]) {
      const res = await rawGet(server.http, path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.headers.location, path).toBeUndefined();
    }
    const deeper = await rawGet(server.http, '/lobby/a/b/');
    expect(deeper.status).toBe(404);
    expect(JSON.parse(deeper.body)).toMatchObject({ error: 'not_found' });
  });

  it('never accepts a socket upgrade on a page path, over-long ids included', async () => {
    const upgrade = (path: string) =>
      new Promise<number | 'open'>((resolve, reject) => {
        const ws = new WebSocket(`${server.http.replace(/^http/, 'ws')}${path}`);
        ws.on('unexpected-response', (_request, response) => {
          resolve(response.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('open', () => {
          resolve('open');
          ws.terminate();
        });
        ws.on('error', reject);
      });
    const refused = () =>
      metricValue(server, 'swarmhost_handshakes_refused_total', { reason: 'bad_lobby_id' });
    const before = await refused();
    // Beyond the router's 128-character parameter limit: not the socket route.
    expect(await upgrade(`/lobby/${'a'.repeat(200)}/ws`)).toBe(400);
    expect(await refused()).toBe(before + 1);
    expect(await upgrade('/lobby/a/b/ws')).toBe(404);
    expect(await upgrade('/lobby/demo/')).toBe(404);
  });

  it('serves the built assets with their types, an ETag and no-cache', async () => {
    const js = await rawGet(server.http, '/assets/lobby.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('no-cache');
    expect(js.headers['last-modified']).toBeDefined();
    const etag = js.headers.etag as string;
    expect(etag).toMatch(/^(W\/)?"[^"]+"$/);
    // What a browser sends to revalidate a no-cache response.
    const again = await rawGet(server.http, '/assets/lobby.js', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    const stale = await rawGet(server.http, '/assets/lobby.js', { 'if-none-match': '"other"' });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBeGreaterThan(1000);
    const css = await rawGet(server.http, '/assets/style.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('no-cache');
    const head = await fetch(`${server.http}/assets/style.css`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('serves nothing outside the assets directory: a 404 in the server error shape', async () => {
    for (const path of [
      '/assets/nope.js',
      '/assets/..%2Fpackage.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/%2e%2e%2flobby.html',
      '/assets/%2e%2e/lobby.html',
      '/assets/%2e%2e/x',
      '/assets/../lobby.html',
      '/assets/..%5clobby.html',
      '/assets//lobby.js',
      '/assets/./lobby.js',
      '/assets/%2e/lobby.js',
      '/assets/lobby.js/',
      '/assets/',
      '/assets',
    ]) {
      const res = await rawGet(server.http, path);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body), path).toEqual({
        error: 'not_found',
        message: expect.any(String),
      });
    }
  });
});

describe('page routes with the admin listener split off', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 100, adminPort: 0 });
  });
  afterAll(async () => server.close());

  it('serves the pages and assets on the public listener only', async () => {
    expect(server.admin).not.toBe(server.http);
    for (const path of ['/', '/lobby/demo', '/assets/lobby.js']) {
      const onPublic = await fetch(`${server.http}${path}`);
      expect(onPublic.status, path).toBe(200);
      await onPublic.arrayBuffer();
      const onAdmin = await server.adminFetch(path);
      expect(onAdmin.status, path).toBe(404);
      await onAdmin.arrayBuffer();
    }
  });
});
