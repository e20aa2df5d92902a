/**
 * The heartbeat's rule, on a hand-driven socket: a peer is cut when it
 * answered neither the last ping nor anything else, unless that ping went
 * out behind a backlog of unsent frames and the kernel has since taken
 * bytes off the connection (a slow reader, whose pong is on its way).
 * (Real sockets: test/integration/connection-limits.test.ts.)
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { encodeMessage } from '../../../protocol/envelope.js';
import { PROTOCOL_VERSION } from '../../../protocol/version.js';
import { ClientSession } from '../../../src/client-session.js';
import { defaultConfig } from '../../../src/config.js';
import type { LobbyDirectory } from '../../../src/lobby-directory.js';
import type { Logger } from '../../../src/logger.js';
import { Metrics } from '../../../src/metrics.js';
import { PlayerExperience } from '../../../src/player-experience.js';
import { RuntimeSettings } from '../../../src/runtime-settings.js';
import { SendBatch } from '../../../src/send-batch.js';

class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  pings = 0;
  terminated = false;
  /** What ws keeps as `_socket`: the net.Socket's counters. */
  _socket = { bytesWritten: 0, writableLength: 0, cork() {}, uncork() {} };
  ping(): void {
    this.pings++;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
    this.emit('close', 1006);
  }
  close(): void {}
  send(): void {}
}

function newSession(directory = {} as LobbyDirectory) {
  const config = defaultConfig({ helloTimeoutMs: 600_000 });
  const metrics = new Metrics({ version: 'test', protocol: 1, instance: 'test' });
  const socket = new FakeSocket();
  const noop = () => {};
  const log = { debug: noop, info: noop, warn: noop, error: noop } as unknown as Logger;
  const s = new ClientSession(socket as unknown as WebSocket, 'hb', {
    config,
    settings: new RuntimeSettings(config),
    sendBatch: new SendBatch(),
    metrics,
    directory,
    players: new PlayerExperience(config.statsWindowMs),
    join: (id, session) => directory.join(id, session),
    log,
    logFailure: noop,
  });
  return { session: s, socket };
}

describe('ClientSession.heartbeat', () => {
  it('pings a peer that answers, for ever', () => {
    const { session, socket } = newSession();
    for (let i = 0; i < 10; i++) {
      session.heartbeat();
      socket.emit('pong');
    }
    expect(socket.pings).toBe(10);
    expect(socket.terminated).toBe(false);
  });

  it('cuts a peer at the first heartbeat after an unanswered ping', () => {
    const { session, socket } = newSession();
    session.heartbeat();
    expect(socket.terminated).toBe(false);
    // The kernel still takes bytes (a dead peer's buffers are not full yet),
    // but the ping went out with nothing queued before it: no excuse.
    socket._socket.bytesWritten += 10_000;
    session.heartbeat();
    expect(socket.terminated).toBe(true);
    expect(session.phase).toBe('closed');
  });

  it('counts any message as an answer', () => {
    const { session, socket } = newSession();
    session.heartbeat();
    socket.emit('message', Buffer.from([0xc1]), true);
    session.heartbeat();
    expect(socket.terminated).toBe(false);
  });

  it('keeps a slow reader: its ping queued behind frames and bytes keep leaving', () => {
    const { session, socket } = newSession();
    socket.bufferedAmount = 200_000;
    session.heartbeat();
    for (let i = 0; i < 5; i++) {
      socket._socket.bytesWritten += 50_000;
      session.heartbeat();
      expect(socket.terminated).toBe(false);
    }
  });

  it('cuts a backlogged peer once the kernel stops taking bytes', () => {
    const { session, socket } = newSession();
    socket.bufferedAmount = 200_000;
    socket._socket.bytesWritten = 1_000_000;
    socket._socket.writableLength = 200_000;
    session.heartbeat();
    // Node's buffer grows, but nothing more reaches the kernel.
    socket._socket.bytesWritten += 30_000;
    socket._socket.writableLength += 30_000;
    session.heartbeat();
    expect(socket.terminated).toBe(true);
  });

  it('cuts a peer that keeps sending but takes no bytes while data waits for it', () => {
    const { session, socket } = newSession();
    socket.bufferedAmount = 100_000;
    socket._socket.bytesWritten = 500_000;
    session.heartbeat();
    // It answers (an unsolicited pong counts as heard) but reads nothing.
    socket.emit('pong');
    session.heartbeat();
    expect(socket.terminated).toBe(true);
  });
});

describe('ClientSession replies to a peer that does not read', () => {
  it('are bounded: past twice the high-water mark the peer is cut', () => {
    // A directory whose join succeeds, with a lobby that does nothing.
    const lobby = {
      handle: {
        settings: { tickRate: 60, worldSize: 1000, maxParticles: 100 },
        status: { subscribe: () => () => {}, get: () => ({ phase: 'running' }) },
        onNotice: () => () => {},
        currentStatus: () => ({ id: 'hb', phase: 'running', tick: 0, clients: 1, particles: 0 }),
      },
      feed: { catchUp: () => {} },
    };
    const directory = { join: () => ({ ok: true, lobby }), leave: () => {} };
    const { session, socket } = newSession(directory as unknown as LobbyDirectory);
    socket.emit('message', encodeMessage({ t: 'hello', v: PROTOCOL_VERSION }), true);
    expect(session.phase).toBe('joined');
    // Pongs while the peer reads nothing: fine up to twice the default
    // high-water mark of 256 KB, then the next reply cuts it.
    socket.bufferedAmount = 400 * 1024;
    socket.emit('message', encodeMessage({ t: 'ping', id: 1 }), true);
    expect(socket.terminated).toBe(false);
    socket.bufferedAmount = 600 * 1024;
    socket.emit('message', encodeMessage({ t: 'ping', id: 2 }), true);
    expect(socket.terminated).toBe(true);
    expect(session.phase).toBe('closed');
  });
});
