/**
 * The fleet tests' own footing: a real redis-server (test/support/redis-server.ts),
 * the table router in front of real instances (table-router.ts), and a fleet of
 * server processes behind it (fleet.ts).
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LobbyClient, type SocketLike } from '../../protocol/index.js';
import { type Fleet, startFleet } from '../support/fleet.js';
import { type RedisServer, startRedis, stopAllRedis } from '../../bench/redis-server.js';
import { killServerProcesses, within } from '../support/server-process.js';
import {
  closed,
  openSocket,
  startServer,
  TEST_ADMIN_TOKEN,
  type TestServer,
  waitFor,
} from '../support/server.js';
import { startTableRouter, type TableRouter } from '../support/table-router.js';

/** Few particles: these tests are about where connections go, not the simulation. */
const PARTICLES = 200;

/** A protocol client through the router; resolves once welcomed (or closed). */
async function joinVia(router: TableRouter, lobbyId: string): Promise<LobbyClient> {
  const socket = openSocket(`ws://127.0.0.1:${router.port}/lobby/${lobbyId}/ws`);
  const client = new LobbyClient(socket as unknown as SocketLike);
  await waitFor(
    () => client.welcome !== undefined || client.closeCode !== undefined,
    5000,
    `welcome in ${lobbyId}`,
  );
  return client;
}

/** Lobby ids an instance lists, straight from it. */
async function lobbyIds(http: string): Promise<string[]> {
  const body = (await (await fetch(`${http}/lobbies`)).json()) as { lobbies: { id: string }[] };
  return body.lobbies.map((lobby) => lobby.id).sort();
}

describe('redis-server', () => {
  afterAll(() => stopAllRedis());

  it('starts on a free port of 127.0.0.1 and answers PING', async () => {
    const redis = await startRedis();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await redis.command('PING')).toBe('PONG');
    expect(await redis.command('SET', 'k', 'v')).toBe('OK');
    expect(await redis.command('GET', 'k')).toBe('v');
    // No persistence by default: nothing was written to its dir.
    expect(await redis.command('CONFIG', 'GET', 'save')).toEqual(['save', '']);
    expect(await redis.command('CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'no']);
  });

  it('restarts on the same port: a new process, empty without appendonly', async () => {
    const redis = await startRedis();
    const { port } = redis;
    const firstPid = redis.process.pid;
    await redis.command('SET', 'k', 'v');
    await redis.restart();
    expect(redis.port).toBe(port);
    expect(redis.process.pid).not.toBe(firstPid);
    expect(await redis.command('PING')).toBe('PONG');
    expect(await redis.command('GET', 'k')).toBeNull();
  });

  it('is gone after kill() and comes back with its data with appendonly', async () => {
    const redis = await startRedis({ appendonly: true });
    await redis.command('SET', 'lease', 'a:7');
    await redis.kill();
    expect(redis.process.signalCode).toBe('SIGKILL');
    await expect(redis.command('PING')).rejects.toThrow(/ECONNREFUSED/);
    await redis.restart();
    expect(await redis.command('GET', 'lease')).toBe('a:7');
  });

  it('two servers get two ports, and stopAllRedis stops both', async () => {
    const one = await startRedis();
    const two = await startRedis();
    expect(one.port).not.toBe(two.port);
    await stopAllRedis();
    expect(one.process.exitCode !== null || one.process.signalCode !== null).toBe(true);
    await expect(two.command('PING')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('throws, naming the package, when the binary is missing', async () => {
    await expect(startRedis({ binary: '/nonexistent/redis-server' })).rejects.toThrow(
      /\/nonexistent\/redis-server is missing: install Debian's redis-server/,
    );
  });

  it('rejects an error reply', async () => {
    const redis = await startRedis();
    await expect(redis.command('NOSUCHCOMMAND')).rejects.toThrow(/redis: ERR unknown command/);
  });
});

describe('table router', () => {
  let a: TestServer;
  let b: TestServer;
  let router: TableRouter;
  const clients: LobbyClient[] = [];
  beforeAll(async () => {
    a = await startServer({ instanceId: 'a', defaultParticles: PARTICLES });
    b = await startServer({ instanceId: 'b', defaultParticles: PARTICLES });
    router = await startTableRouter({ defaultTarget: 'a' });
    router.setInstance('a', a.port);
    router.setInstance('b', b.port);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await router.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('sends a WebSocket upgrade to the instance the table names, others to the default', async () => {
    router.route('on-b', 'b');
    const before = { a: router.connections('a'), b: router.connections('b') };
    const onB = await joinVia(router, 'on-b');
    const onA = await joinVia(router, 'unrouted');
    clients.push(onB, onA);
    expect(onB.welcome?.instanceId).toBe('b');
    expect(onA.welcome?.instanceId).toBe('a');
    await waitFor(() => onB.frames > 3 && onA.frames > 3, 5000, 'frames through the router');
    expect(await lobbyIds(b.http)).toContain('on-b');
    expect(await lobbyIds(a.http)).not.toContain('on-b');
    expect(router.connections('a') - before.a).toBe(1);
    expect(router.connections('b') - before.b).toBe(1);
  });

  it('re-routing sends new connections elsewhere and leaves open ones where they are', async () => {
    router.route('moving', 'b');
    const first = await joinVia(router, 'moving');
    clients.push(first);
    expect(first.welcome?.instanceId).toBe('b');
    router.route('moving', 'a');
    const second = await joinVia(router, 'moving');
    clients.push(second);
    expect(second.welcome?.instanceId).toBe('a');
    // The first connection still runs on b: frames keep coming over it.
    const seen = first.frames;
    await waitFor(() => first.frames > seen + 5, 5000, 'frames on the old connection');
    expect(first.closeCode).toBeUndefined();
    expect(await lobbyIds(a.http)).toContain('moving');
    expect(await lobbyIds(b.http)).toContain('moving');
  });

  it('routes each HTTP request by its own path, even from a keep-alive client', async () => {
    // Bodies read to the end, so fetch puts each connection back in its pool
    // for the next request, whatever lobby that one is for.
    const status = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${router.url}${path}`, init);
      await response.arrayBuffer();
      return response.status;
    };
    const put = (id: string) =>
      status(`/lobbies/${id}`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ particles: PARTICLES }),
      });
    router.route('http-b', 'b');
    expect(await put('http-b')).toBe(201);
    expect(await put('http-a')).toBe(201);
    expect(await lobbyIds(b.http)).toContain('http-b');
    expect(await lobbyIds(b.http)).not.toContain('http-a');
    expect(await lobbyIds(a.http)).toContain('http-a');
    for (let i = 0; i < 3; i++) {
      expect(await status('/lobbies/http-b')).toBe(200);
      expect(await status('/lobbies/http-a')).toBe(200);
    }
    router.route('http-a', 'b');
    expect(await status('/lobbies/http-a')).toBe(404);
    router.route('http-a', 'a');

    // A keep-alive client's second request on the same connection: the first
    // was answered with `connection: close`, so it never reaches b for lobby a.
    const socket = connect(router.port, '127.0.0.1');
    let answer = '';
    socket.on('error', () => {});
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.once('data', () => {
      if (!socket.writableEnded) socket.write('GET /lobbies/http-a HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    socket.write('GET /lobbies/http-b HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n\r\n');
    await within(new Promise((resolve) => socket.once('close', resolve)), 3000, 'close');
    expect(answer.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 200']);
    expect(answer).toMatch(/^connection: close\r$/im);
  });

  it('answers 502 for an unknown instance and for one that is down', async () => {
    router.route('ghost-lobby', 'ghost');
    const unknown = await fetch(`${router.url}/lobbies/ghost-lobby`);
    expect(unknown.status).toBe(502);
    expect(await unknown.json()).toEqual({
      error: 'bad_gateway',
      message: "no port for instance 'ghost'",
    });

    const gone = await startServer({ instanceId: 'gone' });
    router.setInstance('gone', gone.port);
    await gone.close();
    router.route('down-lobby', 'gone');
    const down = await fetch(`${router.url}/lobby/down-lobby/ws?v=1`);
    expect(down.status).toBe(502);
    expect(((await down.json()) as { message: string }).message).toBe("instance 'gone' is down");

    // ws reports an upgrade answered with anything but 101 as an error naming the status.
    const socket = openSocket(`ws://127.0.0.1:${router.port}/lobby/ghost-lobby/ws`);
    const failure = new Promise<Error>((resolve) => socket.once('error', resolve));
    expect((await failure).message).toBe('Unexpected server response: 502');
    await closed(socket);
    expect(router.connections('ghost')).toBe(0);
    expect(router.connections('gone')).toBe(0);
  });

  it('refuses a request head that is too big with 431', async () => {
    const socket = connect(router.port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.write(`GET /lobby/x/ws HTTP/1.1\r\nx-filler: ${'y'.repeat(20_000)}\r\n`);
    await new Promise((resolve) => socket.once('close', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('close() ends the connections it forwards', async () => {
    const other = await startTableRouter({ defaultTarget: 'b' });
    other.setInstance('b', b.port);
    const client = await joinVia(other, 'closing-router');
    expect(client.welcome?.instanceId).toBe('b');
    await other.close();
    await waitFor(() => client.closeCode !== undefined, 5000, 'the client sees the close');
  });
});

describe('fleet', () => {
  let redis: RedisServer;
  let fleet: Fleet | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await fleet?.closeAll();
    await killServerProcesses();
    await stopAllRedis();
  });

  it('runs named instances behind the router; kill, restart and add re-register them', async () => {
    fleet = await startFleet({
      names: ['a', 'b'],
      redisUrl: redis.url,
      env: { SWARMHOST_DEFAULT_PARTICLES: String(PARTICLES) },
    });
    expect(fleet.names().sort()).toEqual(['a', 'b']);
    fleet.router.route('lobby-b', 'b');
    const client = await joinVia(fleet.router, 'lobby-b');
    expect(client.welcome?.instanceId).toBe('b');
    expect(await fleet.whereIs('lobby-b')).toEqual(['b']);
    let [listed] = await fleet.lobbiesOn('b');
    // The instance's status of a lobby follows its worker a moment later.
    while (listed.clients !== 1 && client.closeCode === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      [listed] = await fleet.lobbiesOn('b');
    }
    expect(listed).toMatchObject({ id: 'lobby-b', clients: 1, particles: PARTICLES });
    expect(Object.keys(listed).sort()).toEqual(['clients', 'id', 'particles', 'phase', 'tick']);

    const oldPort = fleet.instance('b').port;
    expect((await fleet.kill('b')).signal).toBe('SIGKILL');
    await waitFor(
      () => client.closeCode !== undefined,
      5000,
      'the killed instance drops its client',
    );
    expect(fleet.names()).toEqual(['a']);
    expect((await fetch(`${fleet.router.url}/lobbies/lobby-b`)).status).toBe(502);
    expect(await fleet.whereIs('lobby-b')).toEqual([]);

    const restarted = await fleet.restart('b');
    expect(restarted.port).not.toBe(oldPort);
    const again = await joinVia(fleet.router, 'lobby-b');
    expect(again.welcome?.instanceId).toBe('b');
    again.close();

    const c = await fleet.add('c');
    expect((await (await fetch(`${c.url}/healthz`)).json()).instanceId).toBe('c');
    expect((await fleet.stop('c')).code).toBe(0);
    await expect(fleet.add('a')).rejects.toThrow(/exists/);
  }, 60_000);
});
