/**
 * Access to the admin surface against real servers: lobby mutations need the
 * admin token (401 / 403, and nothing changes for the lobby's players), a
 * server without a token refuses them with an explanation, failed attempts
 * are throttled per IP (429) and logged a bounded number of times, the
 * admin port takes the operator's routes off the public one, tokens and ids
 * that are not ASCII get defined answers, and fault injection is refused
 * outside NODE_ENV development/test.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Bystander, joinBystander } from '../support/bystander.js';
import { joinLobby, startServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const WRONG = { authorization: 'Bearer not-the-token' };

/** One request over node:http, which sends header bytes as given (latin1), unlike fetch. */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, unknown> }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      { method, headers: payload === undefined ? headers : { ...JSON_TYPE, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? -1,
            headers: res.headers,
            json: text.startsWith('{') ? JSON.parse(text) : {},
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A UTF-8 string as the latin1 text whose bytes are its UTF-8 bytes (what node:http sends). */
const utf8Bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

async function failures(server: TestServer): Promise<Record<string, number>> {
  const { values } = await server.app.metrics.adminAuthFailures.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.reason), v.value]));
}

describe('lobby mutations need the admin token', () => {
  let server: TestServer;
  let player: Bystander;
  beforeAll(async () => {
    server = await startServer({ workers: 0, defaultParticles: 300 });
    player = await joinBystander(server, 'target');
  });
  afterAll(async () => {
    player?.close();
    await server?.close();
  });

  it('exports every failure reason at 0 from the start', async () => {
    const text = await (await fetch(`${server.admin}/metrics`)).text();
    for (const reason of ['missing_token', 'wrong_token', 'disabled', 'throttled'])
      expect(text).toContain(`swarmhost_admin_auth_failures_total{reason="${reason}"} 0`);
  });

  it('without a token: 401 with WWW-Authenticate, and nothing changes for the players', async () => {
    player.mark();
    for (const [method, path, body] of [
      ['DELETE', '/lobbies/target', undefined],
      ['POST', '/lobbies', { id: 'huge', particles: 100_000 }],
      ['POST', '/lobbies', { particles: 100_000 }],
      ['PUT', '/lobbies/fresh', { particles: 100_000 }],
      ['PUT', '/lobbies/target', undefined],
    ] as const) {
      const res = await send(server.admin, method, path, {}, body);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json).toMatchObject({ error: 'unauthorized' });
      expect(String(res.json.message)).toContain('SWARMHOST_ADMIN_TOKEN');
    }
    expect(server.app.directory.list().map((l) => l.id)).toEqual(['target']);
    await player.expectUndisturbed();
    expect((await failures(server)).missing_token).toBe(5);
  });

  it('with a wrong token: 403, and nothing changes', async () => {
    player.mark();
    expect((await send(server.admin, 'DELETE', '/lobbies/target', WRONG)).status).toBe(403);
    const post = await send(server.admin, 'POST', '/lobbies', WRONG, { id: 'huge' });
    expect(post.status).toBe(403);
    expect(post.json).toMatchObject({ error: 'forbidden' });
    expect((await send(server.admin, 'PUT', '/lobbies/fresh', WRONG)).status).toBe(403);
    expect(server.app.directory.list().map((l) => l.id)).toEqual(['target']);
    await player.expectUndisturbed();
    expect((await failures(server)).wrong_token).toBe(3);
  });

  it('with the token: PUT creates lobby :id (201, 409 if it exists), POST creates, DELETE closes', async () => {
    const made = await server.adminFetch('/lobbies/made', {
      method: 'PUT',
      headers: JSON_TYPE,
      body: JSON.stringify({ particles: 200, seed: 7 }),
    });
    expect(made.status).toBe(201);
    expect(await made.json()).toMatchObject({ id: 'made', particles: 200 });
    expect((await server.adminFetch('/lobbies/made', { method: 'PUT' })).status).toBe(409);
    // No body: the defaults.
    const plain = await server.adminFetch('/lobbies/plain', { method: 'PUT' });
    expect(plain.status).toBe(201);
    expect((await plain.json()).particles).toBe(300);
    const bad = await server.adminFetch('/lobbies/not%20an%20id', { method: 'PUT' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toBe('bad_lobby_id');
    const big = await server.adminFetch('/lobbies/too-big', {
      method: 'PUT',
      headers: JSON_TYPE,
      body: JSON.stringify({ particles: 100_001 }),
    });
    expect(big.status).toBe(400);
    const posted = await server.adminFetch('/lobbies', {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ id: 'posted', particles: 100 }),
    });
    expect(posted.status).toBe(201);

    const victim = await joinLobby(server, 'made');
    expect((await server.adminFetch('/lobbies/made', { method: 'DELETE' })).status).toBe(202);
    await expect.poll(() => victim.closeCode, { timeout: 5000 }).toBe(4004);
    for (const id of ['plain', 'posted'])
      expect((await server.adminFetch(`/lobbies/${id}`, { method: 'DELETE' })).status).toBe(202);
  });

  it('answers tokens and ids that are not ASCII without a 500', async () => {
    for (const token of ['🔑🔑🔑', 'ключ', `${TEST_ADMIN_TOKEN}é`]) {
      const res = await send(server.admin, 'DELETE', '/lobbies/target', {
        authorization: `Bearer ${utf8Bytes(token)}`,
      });
      expect(res.status, token).toBe(403);
    }
    const emojiId = encodeURIComponent('🐝蜂');
    expect((await send(server.admin, 'DELETE', `/lobbies/${emojiId}`)).status).toBe(401);
    expect((await server.adminFetch(`/lobbies/${emojiId}`, { method: 'DELETE' })).status).toBe(404);
    const put = await server.adminFetch(`/lobbies/${emojiId}`, { method: 'PUT' });
    expect(put.status).toBe(400);
    // Raw UTF-8 bytes in the request line: refused, never a 500, and the server goes on.
    const status = await rawStatus(server.admin, 'DELETE /lobbies/🐝 HTTP/1.1');
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(server.app.directory.get('target')).toBeDefined();
    expect((await fetch(`${server.http}/healthz`)).status).toBe(200);
  });
});

/** The status code of one hand-written request (bytes as UTF-8), or 400 if the server just closes. */
function rawStatus(base: string, requestLine: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () =>
      socket.end(`${requestLine}\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`, 'utf8'),
    );
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 400)));
  });
}

describe('a token that is not ASCII', () => {
  it('matches when sent as its UTF-8 bytes', async () => {
    const server = await startServer({ workers: 0, adminToken: '🔑-clé-ключ' });
    try {
      const res = await send(server.admin, 'PUT', '/lobbies/unicode', {
        authorization: `Bearer ${utf8Bytes('🔑-clé-ключ')}`,
      });
      expect(res.status).toBe(201);
      const wrong = await send(server.admin, 'PUT', '/lobbies/unicode2', {
        authorization: `Bearer ${utf8Bytes('🔑-cle-ключ')}`,
      });
      expect(wrong.status).toBe(403);
    } finally {
      await server.close();
    }
  });
});

describe('failed attempts are throttled per IP, and so is their logging', () => {
  it('429 with Retry-After after N failures, even for the right token; one log line', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of chunk.toString().split('\n'))
          if (line.trim() !== '') lines.push(JSON.parse(line));
        done();
      },
    });
    const server = await startServer(
      { workers: 0, logLevel: 'warn', adminAuthMaxFailures: 3, adminAuthWindowMs: 60_000 },
      { logger: true, logStream },
    );
    try {
      for (let i = 0; i < 3; i++)
        expect((await send(server.admin, 'DELETE', '/lobbies/x', WRONG)).status).toBe(403);
      for (let i = 0; i < 10; i++) {
        const res = await send(server.admin, 'PUT', '/lobbies/x', WRONG);
        expect(res.status).toBe(429);
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
        expect(res.json.error).toBe('too_many_failures');
      }
      // Not even compared: the right token waits too.
      expect((await server.adminFetch('/lobbies/x', { method: 'PUT' })).status).toBe(429);
      expect(server.app.directory.get('x')).toBeUndefined();
      expect(await failures(server)).toMatchObject({ wrong_token: 3, throttled: 11 });
      const refusals = lines.filter((line) => /wrong token|throttled/.test(String(line.msg)));
      expect(refusals).toHaveLength(1);
      expect(refusals[0]).toMatchObject({ level: 40, ip: '127.0.0.1' });
      expect(JSON.stringify(lines)).not.toContain('not-the-token');
    } finally {
      await server.close();
    }
  });

  it('forgives failures after a success, and lets the IP try again once the window ends', async () => {
    const server = await startServer({
      workers: 0,
      adminAuthMaxFailures: 2,
      adminAuthWindowMs: 1000,
    });
    try {
      expect((await send(server.admin, 'PUT', '/lobbies/a', WRONG)).status).toBe(403);
      expect((await server.adminFetch('/lobbies/a', { method: 'PUT' })).status).toBe(201);
      expect((await send(server.admin, 'PUT', '/lobbies/b', WRONG)).status).toBe(403);
      expect((await send(server.admin, 'PUT', '/lobbies/b', {})).status).toBe(401);
      const throttled = await server.adminFetch('/lobbies/b', { method: 'PUT' });
      expect(throttled.status).toBe(429);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await server.adminFetch('/lobbies/b', { method: 'PUT' })).status).toBe(201);
    } finally {
      await server.close();
    }
  });
});

describe('no admin token configured', () => {
  it('refuses every admin route with 403 admin_disabled saying how to enable it', async () => {
    const server = await startServer({ workers: 0, adminToken: '', faultInjection: true });
    try {
      const player = await joinLobby(server, 'kept');
      for (const [method, path, body] of [
        ['DELETE', '/lobbies/kept', undefined],
        ['POST', '/lobbies', { id: 'new' }],
        ['PUT', '/lobbies/new', undefined],
        ['PATCH', '/config', { sendRate: 1 }],
        ['POST', '/lobbies/kept/fault', { kind: 'throw' }],
      ] as const) {
        for (const headers of [{}, WRONG, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }]) {
          const res = await send(server.admin, method, path, headers, body);
          expect(res.status, `${method} ${path}`).toBe(403);
          expect(res.json.error).toBe('admin_disabled');
          expect(String(res.json.message)).toMatch(/set SWARMHOST_ADMIN_TOKEN/);
        }
      }
      expect(server.app.directory.list().map((l) => l.id)).toEqual(['kept']);
      expect(player.closeCode).toBeUndefined();
      expect((await failures(server)).disabled).toBe(15);
      player.close();
    } finally {
      await server.close();
    }
  });
});

describe('SWARMHOST_ADMIN_PORT', () => {
  let server: TestServer;
  let player: Bystander;
  beforeAll(async () => {
    server = await startServer({ workers: 0, adminPort: 0, faultInjection: true });
    player = await joinBystander(server, 'played');
  });
  afterAll(async () => {
    player?.close();
    await server?.close();
  });

  const ADMIN_ROUTES = [
    ['GET', '/metrics'],
    ['GET', '/status'],
    ['GET', '/config'],
    ['PATCH', '/config'],
    ['POST', '/lobbies'],
    ['PUT', '/lobbies/played'],
    ['DELETE', '/lobbies/played'],
    ['POST', '/lobbies/played/fault'],
  ] as const;

  it('serves the operator routes only on the admin port', async () => {
    expect(server.admin).not.toBe(server.http);
    player.mark();
    for (const [method, path] of ADMIN_ROUTES) {
      const res = await send(server.http, method, path, server.adminHeaders);
      expect(res.status, `public ${method} ${path}`).toBe(404);
    }
    for (const [method, path] of [
      ['GET', '/metrics'],
      ['GET', '/status'],
      ['GET', '/config'],
    ] as const) {
      expect((await send(server.admin, method, path)).status, path).toBe(200);
    }
    // Admin routes still want the token there.
    expect((await send(server.admin, 'DELETE', '/lobbies/played')).status).toBe(401);
    const made = await server.adminFetch('/lobbies/on-admin', { method: 'PUT' });
    expect(made.status).toBe(201);
    expect(server.app.directory.get('played')).toBeDefined();
    await player.expectUndisturbed();
  });

  it('keeps the players on the public port: pages, health, the lobby list, sockets', async () => {
    for (const path of ['/', '/healthz', '/readyz', '/lobbies', '/lobbies/played', '/lobby/x'])
      expect((await fetch(`${server.http}${path}`)).status, path).toBe(200);
    for (const path of ['/', '/lobby/x', '/lobbies'])
      expect((await fetch(`${server.admin}${path}`)).status, `admin ${path}`).toBe(404);
    const client = await joinLobby(server, 'on-admin');
    expect(client.welcome?.lobbyId).toBe('on-admin');
    client.close();
  });

  it('closing the server closes both listeners', async () => {
    const other = await startServer({ workers: 0, adminPort: 0 });
    await other.close();
    expect(other.app.fastify.server.listening).toBe(false);
    expect(other.app.admin.server.listening).toBe(false);
  });
});

describe('fault injection outside development and test', () => {
  const on = { SWARMHOST_FAULT_INJECTION: 'true' };
  it('is refused for NODE_ENV unset, production in any case, prod, and anything else', () => {
    for (const nodeEnv of [
      undefined,
      '',
      'production',
      'Production',
      'PRODUCTION',
      'prod',
      'Test',
      ' test',
      'staging',
    ])
      expect(() => loadConfig({ ...on, NODE_ENV: nodeEnv }), String(nodeEnv)).toThrow(
        /SWARMHOST_FAULT_INJECTION: fault injection needs NODE_ENV=development or test/,
      );
  });
  it('is allowed for NODE_ENV development and test, and off needs nothing', () => {
    expect(loadConfig({ ...on, NODE_ENV: 'test' }).faultInjection).toBe(true);
    expect(loadConfig({ ...on, NODE_ENV: 'development' }).faultInjection).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).faultInjection).toBe(false);
  });
  it('SWARMHOST_ADMIN_PORT: -1 by default, validated, and not the public port', () => {
    expect(loadConfig({}).adminPort).toBe(-1);
    expect(loadConfig({ SWARMHOST_ADMIN_PORT: '0', PORT: '0' }).adminPort).toBe(0);
    expect(() => loadConfig({ SWARMHOST_ADMIN_PORT: '-2' })).toThrow(/SWARMHOST_ADMIN_PORT/);
    expect(() => loadConfig({ SWARMHOST_ADMIN_PORT: '8080' })).toThrow(/must differ from PORT/);
  });
});
