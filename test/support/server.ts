/**
 * Test harness: a real server on 127.0.0.1 port 0, real `ws` clients that
 * speak the protocol through LobbyClient, and a polling wait that fails with
 * a label instead of hanging.
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

export interface TestServer {
  app: App;
  port: number;
  http: string;
  wsUrl(lobbyId: string): string;
  close(): Promise<void>;
}

export async function startServer(
  overrides: Partial<Config> = {},
  options: AppOptions = {},
): Promise<TestServer> {
  const config = defaultConfig({ host: '127.0.0.1', port: 0, logLevel: 'silent', ...overrides });
  const app = await buildApp(config, { logger: false, ...options });
  await app.fastify.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.fastify.server.address() as AddressInfo;
  return {
    app,
    port,
    http: `http://127.0.0.1:${port}`,
    wsUrl: (lobbyId) => `ws://127.0.0.1:${port}/lobby/${lobbyId}/ws`,
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
