/**
 * The shipped balancer configs (deploy/nginx/swarmhost.conf,
 * deploy/haproxy/haproxy.cfg), rendered with the test's ports and run by
 * Debian's real nginx and HAProxy in front of three small servers that say
 * who they are: the config checks pass, every path of one lobby is hashed
 * to the same server (and other paths spread), the forwarded headers and the
 * WebSocket upgrade get through, and a server answering 503 (a draining
 * swarmhost) costs the client nothing: the request is retried on the next
 * server, the same one for every request of the lobby. HAProxy's /readyz
 * check takes a 503 server out. The fleet behind them, drain and crash
 * included, is load-balancer.test.ts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { Upstream } from '../../bench/balancer.js';
import {
  checkHaproxyConfig,
  type Haproxy,
  startHaproxy,
  stopAllHaproxy,
} from '../../bench/haproxy.js';
import { type Nginx, startNginx, stopAllNginx, testNginxConfig } from '../support/nginx.js';
import { freePort } from '../../bench/balancer.js';

/** Lobby ids tried: enough that every server gets some. */
const IDS = Array.from({ length: 40 }, (_, i) => `room-${i}_x`);

interface Echo {
  server: string;
  method: string;
  url: string;
  forwardedFor: string | undefined;
  forwardedProto: string | undefined;
}

/** A server that answers every request (and every WebSocket) with its name; `draining` answers 503 as a draining swarmhost does. */
interface NamedServer extends Upstream {
  draining: boolean;
  /** /readyz answers 503 too (a drain as HAProxy's check sees it). */
  notReady: boolean;
  close(): Promise<void>;
}

async function namedServer(name: string): Promise<NamedServer> {
  const echo = (request: IncomingMessage): Echo => ({
    server: name,
    method: request.method ?? '',
    url: request.url ?? '',
    forwardedFor: request.headers['x-forwarded-for'] as string | undefined,
    forwardedProto: request.headers['x-forwarded-proto'] as string | undefined,
  });
  const http: Server = createServer((request, response) => {
    const refused =
      request.url === '/readyz' ? self.notReady : self.draining && request.url !== '/readyz';
    response.writeHead(refused ? 503 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(refused ? { error: 'draining', message: name } : echo(request)));
  });
  const sockets = new WebSocketServer({ noServer: true });
  http.on('upgrade', (request, socket, head) => {
    if (self.draining) {
      socket.end(
        'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n',
      );
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => ws.send(JSON.stringify(echo(request))));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const self: NamedServer = {
    name,
    port: (http.address() as AddressInfo).port,
    draining: false,
    notReady: false,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
  return self;
}

async function get(port: number, path: string): Promise<{ status: number; body: Echo }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: (await response.json()) as Echo };
}

/** Opens a WebSocket through the balancer and resolves with the first message (the server's echo). */
function upgrade(port: number, path: string): Promise<Echo> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    const timer = setTimeout(() => reject(new Error(`no message on ${path}`)), 5000);
    socket.once('message', (data) => {
      clearTimeout(timer);
      socket.close();
      resolve(JSON.parse(String(data)) as Echo);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Which server each lobby id reaches by its socket path. */
async function owners(port: number): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const id of IDS) map.set(id, (await get(port, `/lobby/${id}/ws`)).body.server);
  return map;
}

interface Balancer {
  port: number;
  stop(): Promise<void>;
}

const BALANCERS = [
  {
    name: 'nginx',
    check: testNginxConfig,
    start: async (servers: Upstream[]): Promise<Balancer> => {
      const nginx: Nginx = await startNginx(await freePort(), servers);
      return nginx;
    },
  },
  {
    name: 'HAProxy',
    check: checkHaproxyConfig,
    start: async (servers: Upstream[]): Promise<Balancer> => {
      const haproxy: Haproxy = await startHaproxy(servers);
      // Its checks start with every server up: nothing to wait for.
      return haproxy;
    },
  },
] as const;

let servers: NamedServer[] = [];
let balancer: Balancer | undefined;

afterEach(async () => {
  await balancer?.stop();
  balancer = undefined;
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});
afterAll(async () => {
  await stopAllNginx();
  await stopAllHaproxy();
});

async function setUp(start: (servers: Upstream[]) => Promise<Balancer>): Promise<Balancer> {
  servers = await Promise.all(['swarmhost-1', 'swarmhost-2', 'swarmhost-3'].map(namedServer));
  balancer = await start(servers);
  return balancer;
}

describe.each(BALANCERS)('$name with the shipped config', ({ check, start }) => {
  it('passes its own config check, without warnings', async () => {
    const output = await check(
      [1, 2, 3].map((i) => ({ name: `swarmhost-${i}`, port: 40_000 + i })),
    );
    expect(output).not.toMatch(/warn|emerg|alert/i);
  });

  it('hashes every path of a lobby to one server, and spreads the other paths', async () => {
    const { port } = await setUp(start);
    const byId = await owners(port);
    for (const id of IDS) {
      const owner = byId.get(id);
      for (const path of [
        `/lobby/${id}`,
        `/lobby/${id}/`,
        `/lobbies/${id}`,
        `/lobby/${id}/ws?v=1`,
      ]) {
        expect({ id, path, server: (await get(port, path)).body.server }).toEqual({
          id,
          path,
          server: owner,
        });
      }
      expect({ id, socket: (await upgrade(port, `/lobby/${id}/ws`)).server }).toEqual({
        id,
        socket: owner,
      });
    }
    // Consistent hashing still spreads the lobbies over every server.
    expect(new Set(byId.values()).size).toBe(3);
    // Paths without a lobby id have no key: round robin, not all on one server.
    const landing = new Set<string>();
    for (let i = 0; i < 9; i++) landing.add((await get(port, '/lobbies')).body.server);
    expect(landing.size).toBeGreaterThan(1);
  });

  it('forwards the client address and scheme, and upgrades game sockets', async () => {
    const { port } = await setUp(start);
    const { body } = await get(port, '/lobby/forwarded');
    expect(body.forwardedFor).toMatch(/127\.0\.0\.1/);
    expect(body.forwardedProto).toBe('http');
    const echo = await upgrade(port, '/lobby/forwarded/ws');
    expect(echo.method).toBe('GET');
    expect(echo.url).toBe('/lobby/forwarded/ws');
    expect(echo.forwardedFor).toMatch(/127\.0\.0\.1/);
  });

  it('retries a 503 on the next server, the same one for every request of the lobby', async () => {
    const { port } = await setUp(start);
    const before = await owners(port);
    const victim = servers[0];
    const moved = IDS.filter((id) => before.get(id) === victim.name);
    expect(moved.length).toBeGreaterThan(0);
    // /readyz stays 200: HAProxy's check keeps it in, so only the retry can help.
    victim.draining = true;
    for (const id of IDS) {
      const paths = [`/lobby/${id}/ws`, `/lobbies/${id}`, `/lobby/${id}/ws`];
      const answers = await Promise.all(paths.map((path) => get(port, path)));
      const sockets = await Promise.all([1, 2].map(() => upgrade(port, `/lobby/${id}/ws`)));
      for (const { status } of answers) expect(status).toBe(200);
      const where = new Set([
        ...answers.map((a) => a.body.server),
        ...sockets.map((s) => s.server),
      ]);
      expect({ id, where: [...where] }).toEqual({
        id,
        // Lobbies of the draining server move, all together; the others stay.
        where: [
          before.get(id) === victim.name ? expect.not.stringMatching(victim.name) : before.get(id),
        ],
      });
    }
  });
});

describe('HAProxy health checks', () => {
  it('take a server whose /readyz answers 503 out within a second, and put it back once it passes', async () => {
    const haproxy = await startHaproxy(
      (servers = await Promise.all(['swarmhost-1', 'swarmhost-2', 'swarmhost-3'].map(namedServer))),
    );
    balancer = haproxy;
    const until = async (state: string, ms: number) => {
      const start = performance.now();
      while ((await haproxy.states())['swarmhost-2'] !== state) {
        if (performance.now() - start > ms) throw new Error(`swarmhost-2 not ${state} in ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    await until('UP', 2000);
    servers[1].notReady = true;
    // inter 250 ms × fall 2, plus a check in flight: within the 1.5 s drain delay
    // docs/DEPLOY.md recommends with this config.
    await until('DOWN', 1500);
    servers[1].notReady = false;
    await until('UP', 2000);
  });
});
