/**
 * Connections that would hold the instance's descriptors or memory: slow
 * request bodies, too many game sockets (in total and from one address),
 * too many TCP connections from one address, and dead peers that keep a
 * lobby slot. Each is refused or cut with a defined answer and counted,
 * and a bystander in another lobby keeps its frames throughout.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeMessage } from '../../protocol/envelope.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import { type Bystander, joinBystander } from '../support/bystander.js';
import { metricValue } from '../support/metrics.js';
import { Opcode, rawUpgrade } from '../support/raw-socket.js';
import {
  joinLobby,
  openSocket,
  startServer,
  TEST_ADMIN_TOKEN,
  type TestServer,
  waitFor,
} from '../support/server.js';

const hello = () => encodeMessage({ t: 'hello', v: PROTOCOL_VERSION });

/** Opens a game socket; resolves with 'open' or the HTTP status that refused it. */
function tryOpen(server: TestServer, lobbyId: string): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const socket = openSocket(server.wsUrl(lobbyId));
    socket.on('error', () => {});
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
  });
}

/** A TCP connection that the server either keeps or drops on accept. */
function tcpConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

const isOpen = (s: WebSocket | number): s is WebSocket => typeof s !== 'number';

describe('request and connection limits', () => {
  let server: TestServer;
  let bystander: Bystander;
  const held: Array<WebSocket | Socket> = [];

  beforeAll(async () => {
    server = await startServer({
      workers: 0,
      defaultParticles: 300,
      requestTimeoutMs: 500,
      maxSockets: 6,
      maxSocketsPerIp: 4,
      maxConnectionsPerIp: 12,
    });
    bystander = await joinBystander(server);
    held.push(bystander.client.socket as unknown as WebSocket);
  });
  afterAll(async () => {
    bystander?.close();
    await server?.close();
  });
  beforeEach(() => bystander.mark());
  afterEach(async () => {
    for (const socket of held.splice(1)) {
      if (socket instanceof WebSocket) socket.terminate();
      else socket.destroy();
    }
    await waitFor(
      () => (server.app.fastify.websocketServer?.clients.size ?? 0) <= 1,
      5000,
      'sockets gone',
    );
  });

  const slowRequests: Array<[string, () => string]> = [
    [
      'a request body that never finishes',
      () =>
        `POST /lobbies HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_ADMIN_TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id":`,
    ],
    ['request headers that never finish', () => 'GET /lobbies HTTP/1.1\r\nHost: x\r\nX-Slow: '],
  ];
  for (const [name, request] of slowRequests) {
    it(`${name} is cut after requestTimeoutMs`, async () => {
      const socket = await tcpConnect(server.port);
      held.push(socket);
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk));
      const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(request());
      const started = performance.now();
      await ended;
      // Node answers 408 and closes; what matters is that the socket is freed.
      expect(performance.now() - started).toBeLessThan(5000);
      expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
      await bystander.expectUndisturbed();
    });
  }

  it('a request that trickles in, a byte at a time, is cut on time too, and counted', async () => {
    const before = await metricValue(server, 'swarmhost_http_client_errors_total', {
      kind: 'timeout',
    });
    const socket = await tcpConnect(server.port);
    held.push(socket);
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('GET /lobbies HTTP/1.1\r\nHost: x\r\nX-Trickle: ');
    // Never idle, never done: only the request timeout can end it.
    const trickle = setInterval(() => socket.writable && socket.write('a'), 100);
    const started = performance.now();
    await ended.finally(() => clearInterval(trickle));
    // requestTimeoutMs (500) plus Node's sweep of its connections (at most 500 ms here).
    expect(performance.now() - started).toBeLessThan(2500);
    await expect
      .poll(() => metricValue(server, 'swarmhost_http_client_errors_total', { kind: 'timeout' }))
      .toBe(before + 1);
  });

  it('game sockets beyond the per-address cap get 503 before the upgrade', async () => {
    // The bystander holds one of the four this address may hold.
    const results: Array<WebSocket | number> = [];
    for (let i = 0; i < 5; i++) results.push(await tryOpen(server, `cap-${i}`));
    const opened = results.filter(isOpen);
    held.push(...opened);
    expect(opened).toHaveLength(3);
    expect(results.filter((r) => r === 503)).toHaveLength(2);
    expect(
      await metricValue(server, 'swarmhost_handshakes_refused_total', { reason: 'ip_socket_cap' }),
    ).toBeGreaterThanOrEqual(2);
    // Closing one frees its place.
    opened[0].close();
    await waitFor(() => opened[0].readyState === WebSocket.CLOSED, 5000, 'closed');
    const again = await tryOpen(server, 'cap-again');
    expect(isOpen(again)).toBe(true);
    if (isOpen(again)) held.push(again);
    await bystander.expectUndisturbed();
  });

  it('upgrades racing each other never exceed the cap: 503 before, or 1013 after', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => tryOpen(server, `race-${i}`)),
    );
    const opened = results.filter(isOpen);
    held.push(...opened);
    // Let any socket that slipped past the first check be closed with 1013.
    await new Promise((r) => setTimeout(r, 200));
    const stillOpen = opened.filter((s) => s.readyState === WebSocket.OPEN);
    expect(stillOpen.length).toBeLessThanOrEqual(3);
    expect(stillOpen.length + 1).toBeLessThanOrEqual(server.app.config.maxSocketsPerIp);
    for (const refused of results.filter((r) => !isOpen(r))) expect(refused).toBe(503);
    await bystander.expectUndisturbed();
  });

  it('TCP connections beyond the per-address cap are dropped on accept, and counted', async () => {
    const before = await metricValue(server, 'swarmhost_connections_dropped_total', {
      cap: 'per_ip',
    });
    // Whatever this process already holds (the bystander, fetch's keep-alive pool).
    const alreadyHeld = await new Promise<number>((resolve, reject) =>
      server.app.fastify.server.getConnections((error, count) =>
        error ? reject(error) : resolve(count),
      ),
    );
    const expectedDrops = 20 - (server.app.config.maxConnectionsPerIp - alreadyHeld);
    const sockets = await Promise.all(Array.from({ length: 20 }, () => tcpConnect(server.port)));
    held.push(...sockets);
    const closedCount = async () => {
      await new Promise((r) => setTimeout(r, 300));
      return sockets.filter((s) => s.destroyed || s.readableEnded).length;
    };
    for (const s of sockets) s.on('end', () => s.destroy());
    expect(expectedDrops).toBeGreaterThan(0);
    expect(await closedCount()).toBe(expectedDrops);
    expect(
      await metricValue(server, 'swarmhost_connections_dropped_total', { cap: 'per_ip' }),
    ).toBe(before + expectedDrops);
    await bystander.expectUndisturbed();
  });
});

describe('the total game socket cap', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ workers: 0, defaultParticles: 50, maxSockets: 3 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses the socket beyond it with 503 and Retry-After', async () => {
    const opened = [];
    for (let i = 0; i < 3; i++) opened.push(await tryOpen(server, 'total'));
    expect(opened.every(isOpen)).toBe(true);
    const refused = await new Promise<{ status: number; retryAfter?: string }>((resolve) => {
      const socket = openSocket(server.wsUrl('total'));
      socket.on('error', () => {});
      socket.once('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
        res.resume();
      });
    });
    expect(refused.status).toBe(503);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    for (const s of opened) if (isOpen(s)) s.terminate();
  });
});

describe('heartbeat', () => {
  const HEARTBEAT_MS = 300;
  let server: TestServer;
  let bystander: Bystander;
  beforeAll(async () => {
    server = await startServer({ workers: 0, defaultParticles: 1000, heartbeatMs: HEARTBEAT_MS });
    bystander = await joinBystander(server);
  });
  afterAll(async () => {
    bystander?.close();
    await server?.close();
  });
  beforeEach(() => bystander.mark());

  const lobbyClients = async (id: string) => {
    const res = await fetch(`${server.http}/lobbies/${id}`);
    return res.status === 200 ? ((await res.json()) as { clients: number }).clients : 0;
  };
  const cutByHeartbeat = () =>
    metricValue(server, 'swarmhost_peers_cut_total', { reason: 'heartbeat' });

  it('a peer whose network went silent is cut within two intervals, and leaves its lobby', async () => {
    const before = await cutByHeartbeat();
    const peer = await rawUpgrade(server.port, '/lobby/dead-network/ws');
    peer.send(Opcode.binary, hello());
    await waitFor(() => peer.received.length > 0, 5000, 'welcome');
    await expect.poll(() => lobbyClients('dead-network')).toBe(1);
    // From here on the peer neither reads nor writes nor answers pings.
    peer.socket.pause();
    const silentSince = performance.now();
    await expect.poll(cutByHeartbeat, { timeout: 10_000, interval: 50 }).toBe(before + 1);
    // Two intervals, plus one for where in its cycle the heartbeat was, plus slack for a busy machine.
    expect(performance.now() - silentSince).toBeLessThan(3 * HEARTBEAT_MS + 1500);
    await expect.poll(() => lobbyClients('dead-network')).toBe(0);
    peer.socket.destroy();
    await bystander.expectUndisturbed();
  });

  it('a peer that reads but answers no ping and sends nothing is cut too', async () => {
    const before = await cutByHeartbeat();
    const socket = new WebSocket(server.wsUrl('no-pong'), { autoPong: false });
    socket.on('error', () => {});
    await new Promise((r) => socket.once('open', r));
    socket.send(hello());
    const code = await new Promise<number>((resolve) => socket.once('close', resolve));
    expect(code).toBe(1006);
    expect(await cutByHeartbeat()).toBe(before + 1);
  });

  it('a polite client that answers pings stays for many intervals', async () => {
    const client = await joinLobby(server, 'polite');
    await new Promise((r) => setTimeout(r, 8 * HEARTBEAT_MS));
    expect(client.closeCode).toBeUndefined();
    client.close();
  });

  it('a reader that stalls for half an interval at a time, still answering, is not cut', async () => {
    const before = await cutByHeartbeat();
    const client = await joinLobby(server, 'hiccups');
    const tcp = (client.socket as unknown as { _socket: Socket })._socket;
    // A phone on a bad network: stops reading for 150 ms of every 300 ms,
    // then catches up. Its pongs come late, but before the next heartbeat.
    const hiccup = setInterval(() => {
      tcp.pause();
      setTimeout(() => tcp.resume(), HEARTBEAT_MS / 2);
    }, HEARTBEAT_MS);
    await new Promise((r) => setTimeout(r, 8 * HEARTBEAT_MS));
    clearInterval(hiccup);
    expect(client.closeCode).toBeUndefined();
    expect(await cutByHeartbeat()).toBe(before);
    client.close();
  });
});
