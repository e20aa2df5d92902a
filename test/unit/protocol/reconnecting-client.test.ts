/**
 * ReconnectingLobbyClient against a tiny real `ws` server on 127.0.0.1 port 0
 * that speaks just enough of the protocol (hello → welcome, a keyframe) and
 * closes each connection as the test scripts it: the loop's decisions are
 * checked over real sockets, with the delays it asked for recorded through
 * its injected setTimeout.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { CloseCode, LOBBY_MOVING_REASON } from '../../../protocol/close-codes.js';
import { decodeMessage, encodeMessage } from '../../../protocol/envelope.js';
import { encodeKeyframe } from '../../../protocol/frame-codec.js';
import type { SocketLike } from '../../../protocol/lobby-client.js';
import {
  type ReconnectInfo,
  type ReconnectingClientEvents,
  ReconnectingLobbyClient,
  type ReconnectState,
} from '../../../protocol/reconnecting-client.js';
import { MOVED_RECONNECT_JITTER_MS } from '../../../protocol/reconnect-policy.js';
import { PROTOCOL_VERSION } from '../../../protocol/version.js';
import { waitFor } from '../../support/server.js';

/** What the test server does with its n-th connection (0-based) once it heard a hello. */
type Script = (socket: WebSocket, n: number) => void;

interface FakeServer {
  url: string;
  /** Connections accepted so far. */
  connections: number;
  /** Hellos heard, per connection. */
  hellos: number;
  close(): Promise<void>;
}

const servers: FakeServer[] = [];
const clients: ReconnectingLobbyClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.stop();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function welcome(socket: WebSocket, n: number): void {
  socket.send(
    encodeMessage({
      t: 'welcome',
      v: PROTOCOL_VERSION,
      clientId: 100 + n,
      lobbyId: 'moving',
      tickRate: 60,
      worldSize: 1000,
      quantBits: 14,
      maxParticles: 10,
      maxSpawn: 10,
      instanceId: `instance-${n}`,
      serverVersion: 'test',
    }),
  );
  // Two particles at tick 1.
  const data = encodeKeyframe({ tick: 1, count: 2, positions: Uint16Array.of(1, 2, 3, 4) }, 14);
  socket.send(encodeMessage({ t: 'frame', tick: 1, kind: 'key', n: 2, ack: -1, data }));
}

async function fakeServer(script: Script): Promise<FakeServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const server: FakeServer = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/lobby/moving/ws`,
    connections: 0,
    hellos: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => resolve());
      }),
  };
  wss.on('connection', (socket) => {
    const n = server.connections++;
    socket.once('message', (data) => {
      const hello = decodeMessage(new Uint8Array(data as Buffer));
      if (!hello.ok || (hello.value as { t?: unknown }).t !== 'hello') return socket.close(4006);
      server.hellos++;
      script(socket, n);
    });
  });
  servers.push(server);
  return server;
}

interface Harness {
  client: ReconnectingLobbyClient;
  /** Delays the client asked its timer for, in order. */
  delays: number[];
  cleared: number;
  states: ReconnectState[];
  reconnects: ReconnectInfo[];
  /** performance.now() of each close event the client saw. */
  closedAt: number[];
  welcomedAt: number[];
}

function connect(
  url: string,
  random: () => number,
  events: ReconnectingClientEvents = {},
): Harness {
  const h: Partial<Harness> & Omit<Harness, 'client'> = {
    delays: [],
    cleared: 0,
    states: [],
    reconnects: [],
    closedAt: [],
    welcomedAt: [],
  };
  const client = new ReconnectingLobbyClient({
    url,
    createSocket: (socketUrl) => new WebSocket(socketUrl) as unknown as SocketLike,
    random,
    setTimeout: (callback, ms) => {
      h.delays.push(ms);
      return setTimeout(callback, ms);
    },
    clearTimeout: (handle) => {
      h.cleared++;
      clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
    events: {
      state: (state) => h.states.push(state),
      reconnect: (info) => h.reconnects.push(info),
      close: () => h.closedAt.push(performance.now()),
      welcome: () => h.welcomedAt.push(performance.now()),
      ...events,
    },
  });
  h.client = client;
  clients.push(client);
  client.start();
  return h as Harness;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ReconnectingLobbyClient over real sockets', () => {
  it('comes back at once after 4007 moved and records both welcomes', async () => {
    const server = await fakeServer((socket, n) => {
      welcome(socket, n);
      if (n === 0) setTimeout(() => socket.close(CloseCode.moved, 'lobby moved to instance-1'), 20);
    });
    // random() = 1: the longest delay each rule allows (the default backoff would be 500 ms).
    const h = connect(server.url, () => 1);
    await waitFor(() => h.client.welcomes.length === 2, 5000, 'the second welcome');

    expect(h.delays).toEqual([MOVED_RECONNECT_JITTER_MS]);
    expect(h.client.welcomes).toEqual([
      { connection: 0, instanceId: 'instance-0', clientId: 100, lobbyId: 'moving' },
      { connection: 1, instanceId: 'instance-1', clientId: 101, lobbyId: 'moving' },
    ]);
    expect(h.client.reconnects).toBe(1);
    expect(h.reconnects).toEqual([
      { attempt: 1, delayMs: 100, code: CloseCode.moved, reason: 'lobby moved to instance-1' },
    ]);
    expect(h.client.connections[0]).toEqual({
      welcomed: true,
      closeCode: CloseCode.moved,
      closeReason: 'lobby moved to instance-1',
    });
    expect(h.client.connections[1].closeCode).toBeUndefined();
    expect(h.client.state).toEqual({ kind: 'live' });
    // Within the jitter plus a local connect and handshake (loose: a loaded machine).
    const elapsed = h.welcomedAt[1] - h.closedAt[0];
    expect(elapsed).toBeGreaterThanOrEqual(MOVED_RECONNECT_JITTER_MS - 5);
    expect(elapsed).toBeLessThan(1000);
    // The newest decoder, status and tick are the second socket's.
    await waitFor(() => h.client.tick === 1 && h.client.decoder?.tick === 1, 2000, 'keyframe');
    expect(h.client.decoder).toBe(h.client.client?.decoder);
    expect([...h.client.decoder!.positions]).toEqual([1, 2, 3, 4]);
    expect(h.client.welcome?.instanceId).toBe('instance-1');
    expect(h.states.map((s) => s.kind)).toEqual([
      'connecting',
      'live',
      'reconnecting',
      'connecting',
      'live',
    ]);
  });

  it('retries a join refused because the lobby is moving within 150-400 ms', async () => {
    const server = await fakeServer((socket, n) => {
      if (n < 2) socket.close(CloseCode.tryAgainLater, `${LOBBY_MOVING_REASON}; retry soon`);
      else welcome(socket, n);
    });
    const h = connect(server.url, () => 1);
    await waitFor(() => h.client.welcomes.length === 1, 5000, 'a welcome after two refusals');
    expect(h.delays).toEqual([400, 400]);
    expect(h.client.connections.map((c) => c.closeCode)).toEqual([1013, 1013, undefined]);
    expect(h.client.welcomes[0].instanceId).toBe('instance-2');
    expect(h.client.reconnects).toBe(2);
  });

  it('keeps the backoff for a plain 1013', async () => {
    const server = await fakeServer((socket) => socket.close(CloseCode.tryAgainLater, 'busy'));
    const h = connect(server.url, () => 0);
    await waitFor(() => h.delays.length === 2, 5000, 'two retries');
    expect(h.delays).toEqual([50, 50]);
    const decided = h.states.filter((s) => s.kind === 'reconnecting');
    expect(decided[0]).toMatchObject({ attempt: 1, code: 1013, reason: 'busy' });
  });

  it('stops on 4000 version mismatch', async () => {
    const server = await fakeServer((socket) => socket.close(CloseCode.versionMismatch, 'v9?'));
    const h = connect(server.url, () => 0);
    await waitFor(() => h.client.state.kind === 'refused', 5000, 'refused');
    expect(h.client.state).toEqual({ kind: 'refused', reason: 'v9?', code: 4000 });
    expect(h.delays).toEqual([]);
    await sleep(150);
    expect(server.connections).toBe(1);
    expect(h.client.closeCode).toBe(4000);
  });

  it('stop() during a pending retry cancels it', async () => {
    const server = await fakeServer((socket) => socket.close(1001, 'going away'));
    const h = connect(server.url, () => 0);
    await waitFor(() => h.client.state.kind === 'reconnecting', 5000, 'a pending retry');
    expect(h.delays).toEqual([50]);
    h.client.stop();
    expect(h.cleared).toBe(1);
    expect(h.client.state).toEqual({ kind: 'stopped' });
    // Three times the delay asked for: the retry would have connected by now.
    await sleep(150);
    expect(server.connections).toBe(1);
    expect(h.client.reconnects).toBe(0);
  });

  it('abandon() gives up a silent socket at once and ignores its late close', async () => {
    const server = await fakeServer(welcome);
    const h = connect(server.url, () => 0);
    await waitFor(() => h.client.welcomes.length === 1, 5000, 'welcome');
    h.client.abandon('no data from the server');
    expect(h.client.state).toMatchObject({
      kind: 'reconnecting',
      code: 1006,
      reason: 'no data from the server',
    });
    await waitFor(() => h.client.welcomes.length === 2, 5000, 'the second welcome');
    await sleep(50);
    // The first socket's own close came later and was not counted twice.
    expect(h.closedAt).toHaveLength(1);
    expect(h.client.connections[0]).toMatchObject({ closeCode: 1006 });
    expect(h.client.reconnects).toBe(1);
  });

  it('closes and resyncs on a frame the decoder refuses instead of throwing', async () => {
    const server = await fakeServer((socket, n) => {
      welcome(socket, n);
      // A delta against a tick this client never held.
      if (n === 0) {
        const data = new Uint8Array(0);
        socket.send(
          encodeMessage({ t: 'frame', tick: 9, kind: 'delta', base: 7, n: 2, ack: -1, data }),
        );
      }
    });
    const refused: string[] = [];
    const h = connect(server.url, () => 0, { decodeError: (error) => refused.push(error.code) });
    await waitFor(() => h.client.welcomes.length === 2, 5000, 'the resync');
    expect(h.client.connections[0]).toMatchObject({ closeCode: 1000, closeReason: 'resync' });
    expect(refused).toEqual(['base_mismatch']);
    await waitFor(() => h.client.decoder?.tick === 1, 2000, 'keyframe on the new socket');
  });
});
