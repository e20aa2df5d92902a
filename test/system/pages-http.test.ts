/** The page routes over plain HTTP: what is served, what is refused. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';

describe('page routes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 100 });
  });
  afterAll(async () => server.close());

  it('serves the landing page and the lobby page as HTML', async () => {
    for (const [path, script] of [
      ['/', '/assets/landing.js'],
      ['/lobby/some-lobby_1', '/assets/lobby.js'],
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

  it('refuses a bad lobby id with 400, as the socket route does', async () => {
    const res = await fetch(`${server.http}/lobby/bad.id`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'bad_lobby_id' });
  });

  it('serves the built assets with their types and revalidation', async () => {
    const js = await fetch(`${server.http}/assets/lobby.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('no-cache');
    const etag = js.headers.get('etag')!;
    const again = await fetch(`${server.http}/assets/lobby.js`, {
      headers: { 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    const css = await fetch(`${server.http}/assets/style.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('serves nothing outside the assets directory', async () => {
    for (const path of [
      '/assets/nope.js',
      '/assets/..%2Fpackage.json',
      '/assets/%2e%2e%2flobby.html',
      '/assets/',
    ]) {
      const res = await fetch(`${server.http}${path}`);
      expect(res.status, path).toBe(404);
    }
  });
});
