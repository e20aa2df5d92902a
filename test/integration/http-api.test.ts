/**
 * The HTTP API over real HTTP: health, readiness, the lobby REST resource,
 * metrics, the lobby page, and the refusal of bad lobby ids before the
 * WebSocket upgrade.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode } from '../../protocol/close-codes.js';
import type { LobbyStatus } from '../../protocol/messages.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

const MAX_PARTICLES = 2000;
const SMALL = 300;

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ defaultParticles: SMALL, maxParticles: MAX_PARTICLES });
});

afterAll(async () => {
  await server?.close();
});

async function get(path: string): Promise<Response> {
  return fetch(`${server.http}${path}`);
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.http}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.adminHeaders },
    body: JSON.stringify(body),
  });
}

async function del(path: string): Promise<Response> {
  return fetch(`${server.http}${path}`, { method: 'DELETE', headers: server.adminHeaders });
}

/** Polls an async predicate every 20 ms until it holds; fails with `label` after 5 s. */
async function eventually(predicate: () => Promise<boolean>, label: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after 5000 ms waiting for ${label}`);
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Attempts a WebSocket upgrade that the server should refuse with a plain HTTP answer. */
function refusedUpgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let settled = false;
    socket.on('unexpected-response', (request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        settled = true;
        resolve({ status: response.statusCode ?? -1, body: Buffer.concat(chunks).toString() });
        request.destroy();
      });
    });
    socket.on('open', () => {
      settled = true;
      socket.close(1000);
      reject(new Error(`upgrade to ${url} was accepted`));
    });
    socket.on('error', (error) => {
      if (!settled) reject(error);
    });
  });
}

describe('health', () => {
  it('GET /healthz → 200 with versions and instance id', async () => {
    const res = await get('/healthz');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.status).toBe('ok');
    expect(typeof body.version).toBe('string');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(body.instanceId).toBe(server.app.config.instanceId);
    expect(body.instanceId.length).toBeGreaterThan(0);
  });

  it('GET /readyz → 200', async () => {
    const res = await get('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });
});

describe('lobby resource', () => {
  it('POST /lobbies {id, particles, seed} → 201 with its status', async () => {
    const res = await post('/lobbies', { id: 'rest-a', particles: SMALL, seed: 42 });
    expect(res.status).toBe(201);
    const status = (await res.json()) as LobbyStatus;
    expect(status.id).toBe('rest-a');
    expect(status.particles).toBe(SMALL);
    expect(status.maxParticles).toBe(MAX_PARTICLES);
    expect(status.clients).toBe(0);
    // A lobby nobody has joined yet is starting or idle, never running.
    expect(['starting', 'idle']).toContain(status.phase);
  });

  it('POST /lobbies accepts particles: 0 and particles: maxParticles', async () => {
    const empty = await post('/lobbies', { id: 'rest-empty', particles: 0 });
    expect(empty.status).toBe(201);
    expect((await empty.json()).particles).toBe(0);
    expect((await del('/lobbies/rest-empty')).status).toBe(202);
    const full = await post('/lobbies', { id: 'rest-full', particles: MAX_PARTICLES });
    expect(full.status).toBe(201);
    expect((await full.json()).particles).toBe(MAX_PARTICLES);
    expect((await del('/lobbies/rest-full')).status).toBe(202);
  });

  it('POST /lobbies without an id → 201 with a generated id', async () => {
    const res = await post('/lobbies', { particles: 100 });
    expect(res.status).toBe(201);
    const status = (await res.json()) as LobbyStatus;
    expect(status.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(status.particles).toBe(100);
    const again = await get(`/lobbies/${status.id}`);
    expect(again.status).toBe(200);
    expect((await again.json()).id).toBe(status.id);
    expect((await del(`/lobbies/${status.id}`)).status).toBe(202);
  });

  it('POST /lobbies with an existing id → 409', async () => {
    const res = await post('/lobbies', { id: 'rest-a', particles: SMALL });
    expect(res.status).toBe(409);
    const body = await res.json();
    expect(body.error).toBe('exists');
    expect(typeof body.message).toBe('string');
  });

  const badBodies: Array<[string, unknown]> = [
    ['negative particles', { id: 'bad-1', particles: -1 }],
    ['string particles', { id: 'bad-2', particles: 'x' }],
    ['fractional particles', { id: 'bad-3', particles: 1.5 }],
    ['particles above maxParticles', { id: 'bad-4', particles: MAX_PARTICLES + 1 }],
    ['an id with a space and !', { id: 'bad id!', particles: SMALL }],
    ['an empty id', { id: '', particles: SMALL }],
    ['a 65-character id', { id: 'a'.repeat(65), particles: SMALL }],
    ['a negative seed', { id: 'bad-5', particles: SMALL, seed: -1 }],
    ['a seed above uint32', { id: 'bad-6', particles: SMALL, seed: 2 ** 32 }],
    ['an array body', [1, 2]],
  ];
  for (const [name, body] of badBodies) {
    it(`POST /lobbies with ${name} → 400 {error, message}`, async () => {
      const res = await post('/lobbies', body);
      expect(res.status).toBe(400);
      const answer = await res.json();
      expect(typeof answer.error).toBe('string');
      expect(typeof answer.message).toBe('string');
      expect(answer.message.length).toBeGreaterThan(0);
    });
  }

  // Fastify's default Ajv options include removeAdditional: true, which would
  // make additionalProperties: false strip unknown fields instead of refusing
  // them (a typo such as {partciles: 10} silently creating a default lobby);
  // app.ts turns it off, and this guards that.
  it('POST /lobbies with an unknown field → 400 {error, message}', async () => {
    const res = await post('/lobbies', { id: 'bad-unknown', particles: SMALL, colour: 'red' });
    if (res.status === 201) await del('/lobbies/bad-unknown');
    expect(res.status).toBe(400);
    const answer = await res.json();
    expect(typeof answer.error).toBe('string');
    expect(typeof answer.message).toBe('string');
  });

  // Likewise Fastify's default coerceTypes: 'array' would convert wrong-typed
  // JSON values instead of refusing them ("5" → 5 particles, true → 1,
  // null → 0, a numeric id 5 → "5"); app.ts turns it off.
  const coercedBodies: Array<[string, Record<string, unknown>]> = [
    ['a numeric-string particles', { id: 'coerce-1', particles: '5' }],
    ['a boolean particles', { id: 'coerce-2', particles: true }],
    ['a null particles', { id: 'coerce-3', particles: null }],
    ['a numeric id', { id: 5, particles: SMALL }],
  ];
  for (const [name, body] of coercedBodies) {
    it(`POST /lobbies with ${name} → 400 (not coerced)`, async () => {
      const res = await post('/lobbies', body);
      if (res.status === 201) await del(`/lobbies/${(await res.clone().json()).id}`);
      expect(res.status).toBe(400);
    });
  }

  it('POST /lobbies with a body that is not JSON → 400 {error, message}', async () => {
    const res = await server.adminFetch('/lobbies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"id": ',
    });
    expect(res.status).toBe(400);
    const answer = await res.json();
    expect(typeof answer.error).toBe('string');
    expect(typeof answer.message).toBe('string');
  });

  it('no refused POST created a lobby', async () => {
    const res = await get('/lobbies');
    const ids = ((await res.json()).lobbies as LobbyStatus[]).map((l) => l.id);
    for (const id of ['bad-1', 'bad-2', 'bad-3', 'bad-4', 'bad id!', 'bad-5', 'bad-6']) {
      expect(ids).not.toContain(id);
    }
  });

  it('GET /lobbies lists the created lobbies with their phase', async () => {
    const created = await post('/lobbies', { id: 'rest-b', particles: SMALL });
    expect(created.status).toBe(201);
    await waitFor(
      () => server.app.directory.get('rest-b')?.handle.status.get().phase === 'idle',
      5000,
      'rest-b idle',
    );
    const res = await get('/lobbies');
    expect(res.status).toBe(200);
    const { lobbies } = (await res.json()) as { lobbies: LobbyStatus[] };
    const byId = new Map(lobbies.map((l) => [l.id, l]));
    expect(byId.get('rest-a')).toMatchObject({
      id: 'rest-a',
      phase: 'idle',
      particles: SMALL,
      clients: 0,
    });
    expect(byId.get('rest-b')).toMatchObject({
      id: 'rest-b',
      phase: 'idle',
      particles: SMALL,
      clients: 0,
    });
  });

  it('GET /lobbies/:id → 200 with a tick that holds while nobody is in it (paused)', async () => {
    const first = await get('/lobbies/rest-a');
    expect(first.status).toBe(200);
    const a = (await first.json()) as LobbyStatus;
    expect(a).toMatchObject({
      id: 'rest-a',
      particles: SMALL,
      maxParticles: MAX_PARTICLES,
      clients: 0,
    });
    await sleep(100);
    const b = (await (await get('/lobbies/rest-a')).json()) as LobbyStatus;
    expect(b.tick).toBe(a.tick);
  });

  it('GET /lobbies/:id of an unknown lobby → 404', async () => {
    const res = await get('/lobbies/nope');
    expect(res.status).toBe(404);
    const body = await res.json();
    expect(body.error).toBe('not_found');
    expect(typeof body.message).toBe('string');
  });

  it('a joined client shows in the status as running with one client', async () => {
    const client = await joinLobby(server, 'rest-b');
    expect(client.welcome?.lobbyId).toBe('rest-b');
    await waitFor(() => client.frames > 0, 5000, 'first frame');
    expect(client.decoder?.count).toBe(SMALL);
    const status = (await (await get('/lobbies/rest-b')).json()) as LobbyStatus;
    expect(status).toMatchObject({ phase: 'running', clients: 1, particles: SMALL });
    client.close(1000);
    await waitFor(() => client.closeCode !== undefined, 5000, 'client closed');
  });

  it('DELETE /lobbies/:id → 202, closes its clients with 4004, then the lobby is gone', async () => {
    const created = await post('/lobbies', { id: 'rest-del', particles: SMALL });
    expect(created.status).toBe(201);
    const client = await joinLobby(server, 'rest-del');
    expect(client.welcome?.lobbyId).toBe('rest-del');
    await waitFor(() => client.frames > 0, 5000, 'first frame');

    const res = await del('/lobbies/rest-del');
    expect(res.status).toBe(202);
    await waitFor(() => client.closeCode !== undefined, 5000, 'client closed by DELETE');
    expect(client.closeCode).toBe(CloseCode.lobbyClosed);

    await eventually(
      async () => (await get('/lobbies/rest-del')).status === 404,
      'GET /lobbies/rest-del → 404',
    );
    const list = (await (await get('/lobbies')).json()) as { lobbies: LobbyStatus[] };
    expect(list.lobbies.map((l) => l.id)).not.toContain('rest-del');
    // The id is free again.
    const recreated = await post('/lobbies', { id: 'rest-del', particles: SMALL });
    expect(recreated.status).toBe(201);
    expect((await del('/lobbies/rest-del')).status).toBe(202);
    // Closing is a message to the lobby's worker: it is gone a moment later.
    await eventually(
      async () => (await get('/lobbies/rest-del')).status === 404,
      'recreated lobby gone',
    );
  });

  it('DELETE /lobbies/:id of an unknown lobby → 404', async () => {
    const res = await del('/lobbies/nope');
    expect(res.status).toBe(404);
    expect((await res.json()).error).toBe('not_found');
  });
});

describe('metrics', () => {
  it('GET /metrics → 200 Prometheus text with the server series', async () => {
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('swarmhost_tick_duration_seconds_bucket{');
    expect(text).toMatch(
      /^swarmhost_tick_duration_seconds_bucket\{le="[^"]+",lobby="rest-b"\} \d+/m,
    );
    expect(text).toMatch(/^swarmhost_lobbies\{phase="idle"\} [1-9]\d*$/m);
    expect(text).toMatch(/^swarmhost_lobbies\{phase="running"\} \d+$/m);
    const info = /^swarmhost_info\{([^}]*)\} 1$/m.exec(text);
    expect(info).not.toBeNull();
    expect(info![1]).toContain(`protocol="${PROTOCOL_VERSION}"`);
    expect(info![1]).toContain(`instance="${server.app.config.instanceId}"`);
    expect(text).toMatch(/^process_cpu_user_seconds_total \S+$/m);
    // A deleted lobby's labelled series are gone.
    expect(text).not.toContain('lobby="rest-del"');
  });
});

describe('lobby page and socket ids', () => {
  it('GET /lobby/demo → 200 html naming the lobby', async () => {
    const res = await get('/lobby/demo');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/<html/i);
    expect(html).toContain('demo');
    // Serving the page does not create the lobby.
    expect((await get('/lobbies/demo')).status).toBe(404);
  });

  it('GET /lobby/bad%20id → 400', async () => {
    const res = await get('/lobby/bad%20id');
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('bad_lobby_id');
  });

  it('a WebSocket upgrade to /lobby/bad%20id/ws is refused with HTTP 400', async () => {
    const { status, body } = await refusedUpgrade(
      `ws://127.0.0.1:${server.port}/lobby/bad%20id/ws`,
    );
    expect(status).toBe(400);
    expect(JSON.parse(body).error).toBe('bad_lobby_id');
  });

  it('a WebSocket upgrade with a 65-character id is refused with HTTP 400', async () => {
    const { status } = await refusedUpgrade(server.wsUrl('a'.repeat(65)));
    expect(status).toBe(400);
  });

  it('a 64-character id is accepted', async () => {
    const id = 'b'.repeat(64);
    const client = await joinLobby(server, id);
    expect(client.closeCode).toBeUndefined();
    expect(client.welcome?.lobbyId).toBe(id);
    client.close(1000);
    await waitFor(() => client.closeCode !== undefined, 5000, 'client closed');
    expect((await del(`/lobbies/${id}`)).status).toBe(202);
  });

  it('refused upgrades create no lobby and are counted', async () => {
    const list = (await (await get('/lobbies')).json()) as { lobbies: LobbyStatus[] };
    for (const lobby of list.lobbies) expect(lobby.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(list.lobbies.map((l) => l.id)).not.toContain('a'.repeat(65));
    const text = await (await get('/metrics')).text();
    expect(text).toMatch(/^swarmhost_handshakes_refused_total\{reason="bad_lobby_id"\} 2$/m);
  });
});
