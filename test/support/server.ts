/**
 * Test harness: a real server on 127.0.0.1 port 0, real `ws` clients that
 * speak the protocol through LobbyClient, and a polling wait that fails with
 * a label instead of hanging.
 *
 * The server has an admin token (TEST_ADMIN_TOKEN unless the test sets
 * `adminToken`), and `adminFetch` calls the admin routes with it, on the
 * admin listener when the test sets `adminPort` (0 picks one).
 */
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import {
  type LobbyClientEvents,
  LobbyClient,
  type SocketLike,
} from '../../protocol/lobby-client.js';
import { type AppOptions, buildApp, type App } from '../../src/app.js';
import { type Config, defaultConfig } from '../../src/config.js';

/** The admin token of a test server unless the test chooses another (or '' for none). */
export const TEST_ADMIN_TOKEN = 'test-admin-token-5f0c9a';

export interface TestServer {
  app: App;
  port: number;
  http: string;
  /** Base URL of the operator's routes: the admin listener with `adminPort`, else `http`. */
  admin: string;
  /** `Authorization: Bearer <token>` ({} when the server has no token). */
  adminHeaders: Record<string, string>;
  /** fetch(`${admin}${path}`) with the admin token. */
  adminFetch(
    path: string,
    init?: RequestInit & { headers?: Record<string, string> },
  ): Promise<Response>;
  wsUrl(lobbyId: string): string;
  close(): Promise<void>;
}

export function startServer(
  overrides: Partial<Config> = {},
  options: AppOptions = {},
): Promise<TestServer> {
  return startServerOn(0, overrides, options);
}

/** startServer on a given port (0: any free one), so a test can restart a server where it was. */
export async function startServerOn(
  port: number,
  overrides: Partial<Config> = {},
  options: AppOptions = {},
): Promise<TestServer> {
  const config = defaultConfig({
    host: '127.0.0.1',
    port,
    logLevel: 'silent',
    adminToken: TEST_ADMIN_TOKEN,
    ...overrides,
  });
  const app = await buildApp(config, { logger: false, ...options });
  await app.fastify.listen({ host: '127.0.0.1', port });
  const actual = (app.fastify.server.address() as AddressInfo).port;
  let admin = `http://127.0.0.1:${actual}`;
  if (app.admin !== app.fastify) {
    await app.admin.listen({ host: '127.0.0.1', port: config.adminPort });
    admin = `http://127.0.0.1:${(app.admin.server.address() as AddressInfo).port}`;
  }
  const adminHeaders: Record<string, string> =
    config.adminToken === '' ? {} : { authorization: `Bearer ${config.adminToken}` };
  return {
    app,
    port: actual,
    http: `http://127.0.0.1:${actual}`,
    admin,
    adminHeaders,
    adminFetch: (path, init = {}) =>
      fetch(`${admin}${path}`, { ...init, headers: { ...init.headers, ...adminHeaders } }),
    wsUrl: (lobbyId) => `ws://127.0.0.1:${actual}/lobby/${lobbyId}/ws`,
    close: () => app.fastify.close(),
  };
}

export function openSocket(url: string, headers: Record<string, string> = {}): WebSocket {
  return new WebSocket(url, { headers });
}

/** A protocol client on a fresh socket; resolves once welcomed (or closed). */
export async function joinLobby(
  server: TestServer,
  lobbyId: string,
  events: LobbyClientEvents = {},
  options: { protocolVersion?: number } = {},
): Promise<LobbyClient> {
  const socket = openSocket(server.wsUrl(lobbyId));
  const client = new LobbyClient(socket as unknown as SocketLike, events, options);
  await waitFor(
    () => client.welcome !== undefined || client.closeCode !== undefined,
    5000,
    'welcome or close',
  );
  return client;
}

export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 5000,
  label = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with the close code and reason of a raw socket. */
export function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED)
      return resolve({ code: -1, reason: 'already closed' });
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}
