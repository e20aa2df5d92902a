/**
 * What a hostile client sends, over real sockets, and what it gets back.
 * Each attack is sent, its answer checked (close code, reason, error reply,
 * metric), and then the process must still answer and a bystander in
 * another lobby must still get >= 55 frames a second:
 * - multi-byte Unicode in every close reason built from client data;
 * - integers of every msgpack width;
 * - messages after the server's close frame, and peers that ignore it;
 * - a steady flood at 10x the rate limit;
 * - an unexpected error inside a handler (contained: 1011, counted);
 * - malformed frames ws refuses itself (their close codes, counted as sent);
 * - no log amplification from any of it.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_CLOSE_REASON_BYTES } from '../../protocol/client-text.js';
import { CloseCode } from '../../protocol/close-codes.js';
import { decodeMessage, encodeMessage } from '../../protocol/envelope.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ErrorMessage, ServerMessage } from '../../protocol/messages.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import { type Bystander, joinBystander } from '../support/bystander.js';
import { metricValue } from '../support/metrics.js';
import {
  encodeNode,
  INT_FORMATS,
  type IntFormat,
  int,
  type MsgpackNode,
  record,
  str,
} from '../support/msgpack-bytes.js';
import { Opcode, type RawPeer, rawUpgrade } from '../support/raw-socket.js';
import { closed, openSocket, startServer, type TestServer, waitFor } from '../support/server.js';

const HELLO_TIMEOUT_MS = 300;
const CLOSE_TIMEOUT_MS = 300;
const MAX_MESSAGE_BYTES = 1024;
const RATE = 20;
/** A lobby id of the most characters the id rule allows, to make reasons long. */
const LONG_ID = 'L'.repeat(64);

let server: TestServer;
let bystander: Bystander;

beforeAll(async () => {
  server = await startServer({
    workers: 0,
    defaultParticles: 300,
    helloTimeoutMs: HELLO_TIMEOUT_MS,
    closeTimeoutMs: CLOSE_TIMEOUT_MS,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    maxClientsPerLobby: 1,
    rateLimitPerSec: RATE,
    rateLimitBurst: RATE,
    rateLimitFloodSeconds: 1,
  });
  bystander = await joinBystander(server);
});

afterAll(async () => {
  bystander?.close();
  await server?.close();
});

beforeEach(() => bystander.mark());

/** A ws client that collects every server message; resolves once open. */
async function connect(lobbyId: string): Promise<{
  socket: WebSocket;
  messages: ServerMessage[];
  closedWith: Promise<{ code: number; reason: string }>;
}> {
  const socket = openSocket(server.wsUrl(lobbyId));
  const messages: ServerMessage[] = [];
  socket.on('message', (data: Buffer) => {
    const decoded = decodeMessage(new Uint8Array(data));
    if (decoded.ok) messages.push(decoded.value as ServerMessage);
  });
  socket.on('error', () => {});
  const closedWith = closed(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', () => reject(new Error('upgrade refused')));
  });
  return { socket, messages, closedWith };
}

const hello = () => encodeMessage({ t: 'hello', v: PROTOCOL_VERSION });

/** A msgpack map written by hand, so each integer has exactly the width asked for. */
const handPacked = (fields: Record<string, MsgpackNode>) => encodeNode(record(fields));

/** Every msgpack integer format that can carry `value`. */
const widthsFor = (value: bigint) =>
  (Object.keys(INT_FORMATS) as IntFormat[]).filter(
    (f) => value >= INT_FORMATS[f].min && value <= INT_FORMATS[f].max,
  );

/** A joined raw peer (hello sent and welcomed). */
async function rawJoined(lobbyId: string): Promise<RawPeer> {
  const peer = await rawUpgrade(server.port, `/lobby/${lobbyId}/ws`);
  peer.send(Opcode.binary, hello());
  await waitFor(() => peer.received.includes(Opcode.binary), 5000, 'welcome');
  return peer;
}

function expectBoundedReason(reason: string | Buffer): void {
  const bytes = typeof reason === 'string' ? Buffer.byteLength(reason) : reason.length;
  expect(bytes).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
}

describe('multi-byte Unicode in close reasons never crashes the server', () => {
  // Three-byte and four-byte characters: 32 UTF-16 units of '€' are 96 bytes.
  const hostile = ['€'.repeat(60), '🦀'.repeat(60), '\u202e'.repeat(60), 'é\u0301'.repeat(60)];

  for (const text of hostile) {
    it(`an unknown type first (${[...text][0]}...) closes 4006 with a bounded, escaped reason`, async () => {
      const { socket, closedWith } = await connect('unicode-first');
      socket.send(encodeMessage({ t: text }));
      const { code, reason } = await closedWith;
      expect(code).toBe(CloseCode.expectedHello);
      expectBoundedReason(reason);
      // Client text is quoted as escapes, never raw.
      expect(reason).not.toContain([...text][0]);
      expect(reason).toContain('\\u');
      await bystander.expectUndisturbed();
    });
  }

  it('an unknown type after joining gets an error reply with a bounded, escaped message', async () => {
    const { socket, messages } = await connect('unicode-joined');
    socket.send(hello());
    await waitFor(() => messages.some((m) => m.t === 'welcome'), 5000, 'welcome');
    socket.send(encodeMessage({ t: '🦀'.repeat(500).slice(0, 400) }));
    await waitFor(() => messages.some((m) => m.t === 'error'), 5000, 'error reply');
    const error = messages.find((m) => m.t === 'error') as ErrorMessage;
    expect(error.code).toBe(ErrorCode.unknownType);
    expect(error.message).not.toContain('🦀');
    // 32 characters quoted, each at most a 6-character escape.
    expect(error.message.length).toBeLessThan(256);
    socket.close();
    await bystander.expectUndisturbed();
  });

  it('undecodable msgpack full of multi-byte text closes 1007 with a bounded reason', async () => {
    const { socket, closedWith } = await connect('unicode-garbage');
    // A str16 header that promises more than it holds, then multi-byte text.
    const text = Buffer.from('ж€🦀'.repeat(40));
    socket.send(Buffer.concat([Buffer.from([0xda, 0xff, 0xff]), text]));
    const { code, reason } = await closedWith;
    expect(code).toBe(CloseCode.invalidPayload);
    expectBoundedReason(reason);
    await bystander.expectUndisturbed();
  });

  it('a few hundred bytes of msgpack references to references close 1007 at once', async () => {
    // Each level is [ref(prev), ref(prev)]: 26 levels, 487 bytes, unfold to
    // 2^25 leaves, and a trailing byte made msgpackr serialise all of it.
    const id = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
    const levels = 26;
    const bytes = [0xdc, 0, levels, 0xd6, 0x69, ...id(0), 0xa1, 0x78];
    for (let i = 1; i < levels; i++)
      bytes.push(0xd6, 0x69, ...id(i), 0x92, 0xd6, 0x70, ...id(i - 1), 0xd6, 0x70, ...id(i - 1));
    bytes.push(0xc0);
    const { socket, closedWith } = await connect('references');
    const sent = performance.now();
    socket.send(Buffer.from(bytes));
    const { code } = await closedWith;
    expect(code).toBe(CloseCode.invalidPayload);
    expect(performance.now() - sent).toBeLessThan(1000);
    await bystander.expectUndisturbed();
  });

  it('a text frame of multi-byte text closes 1003', async () => {
    const { socket, closedWith } = await connect('unicode-text');
    socket.send('🦀'.repeat(200), { binary: false });
    const { code, reason } = await closedWith;
    expect(code).toBe(CloseCode.unsupportedData);
    expectBoundedReason(reason);
  });

  it('a lobby-full refusal quoting a 64-character lobby id fits a close frame', async () => {
    const first = await connect(LONG_ID);
    first.socket.send(hello());
    await waitFor(() => first.messages.some((m) => m.t === 'welcome'), 5000, 'first joins');
    const second = await connect(LONG_ID);
    second.socket.send(hello());
    const { code, reason } = await second.closedWith;
    expect(code).toBe(CloseCode.lobbyFull);
    expectBoundedReason(reason);
    expect(reason.startsWith(`lobby '${LONG_ID.slice(0, 20)}`)).toBe(true);
    first.socket.close();
    await bystander.expectUndisturbed();
  });

  it('a version mismatch with a 64-bit version closes 4000 with a bounded reason', async () => {
    const { socket, closedWith } = await connect('unicode-version');
    socket.send(handPacked({ t: str('hello'), v: int(-(2n ** 62n), 'int64') }));
    const { code, reason } = await closedWith;
    expect(code).toBe(CloseCode.versionMismatch);
    expectBoundedReason(reason);
  });
});

describe('integers of every msgpack width arrive as plain numbers', () => {
  for (const width of widthsFor(BigInt(PROTOCOL_VERSION))) {
    it(`a hello whose v is a ${width} joins`, async () => {
      const { socket, messages } = await connect(`width-${width}`);
      socket.send(handPacked({ t: str('hello'), v: int(PROTOCOL_VERSION, width) }));
      await waitFor(() => messages.some((m) => m.t === 'welcome'), 5000, `welcome (${width})`);
      socket.close();
    });
  }

  it('a ping id that is a millisecond timestamp (uint64, int64) comes back in the pong', async () => {
    const { socket, messages } = await connect('width-ping');
    socket.send(hello());
    const now = BigInt(Date.now());
    socket.send(handPacked({ t: str('ping'), id: int(now, 'uint64') }));
    socket.send(handPacked({ t: str('ping'), id: int(-now, 'int64') }));
    await waitFor(() => messages.filter((m) => m.t === 'pong').length === 2, 5000, 'two pongs');
    const ids = messages.flatMap((m) => (m.t === 'pong' ? [m.id] : []));
    expect(ids).toEqual([Number(now), -Number(now)]);
    expect(messages.some((m) => m.t === 'error')).toBe(false);
    socket.close();
  });

  it('a seq in every width that holds it is accepted; out of uint32 is out_of_range', async () => {
    const { socket, messages } = await connect('width-seq');
    socket.send(hello());
    await waitFor(() => messages.some((m) => m.t === 'welcome'), 5000, 'welcome');
    const input = (seq: MsgpackNode) =>
      handPacked({ t: str('input'), seq, x: int(10), y: int(10), mode: str('none') });
    // Seqs 10..18, each in another width, then values outside the seq range.
    let seq = 10n;
    for (const width of widthsFor(18n)) socket.send(input(int(seq++, width)));
    socket.send(input(int(2n ** 32n, 'uint64')));
    socket.send(input(int(2n ** 64n - 1n, 'uint64')));
    socket.send(input(int(-1n, 'int64')));
    socket.send(input(int(-128n, 'int8')));
    await waitFor(() => messages.filter((m) => m.t === 'error').length >= 4, 5000, 'four errors');
    const errors = messages.filter((m): m is ErrorMessage => m.t === 'error');
    expect(errors.map((e) => e.code)).toEqual(Array(4).fill(ErrorCode.outOfRange));
    // 18 fits every format but negative fixint.
    expect(widthsFor(18n)).toHaveLength(Object.keys(INT_FORMATS).length - 1);
    // All nine in-range inputs were accepted: the server acks seq 18.
    await waitFor(
      () => messages.some((m) => m.t === 'frame' && m.ack === 18),
      5000,
      'ack of seq 18',
    );
    socket.close();
    await bystander.expectUndisturbed();
  });
});

describe('seqs must increase', () => {
  it('a repeated or lower seq gets out_of_range and is not forwarded; the next higher one is', async () => {
    const { socket, messages } = await connect('seq-order');
    socket.send(hello());
    await waitFor(() => messages.some((m) => m.t === 'welcome'), 5000, 'welcome');
    const input = (seq: number) => encodeMessage({ t: 'input', seq, x: 5, y: 5, mode: 'none' });
    for (const seq of [5, 5, 3, 6]) socket.send(input(seq));
    await waitFor(() => messages.some((m) => m.t === 'frame' && m.ack === 6), 5000, 'ack of seq 6');
    const errors = messages.filter((m): m is ErrorMessage => m.t === 'error');
    expect(errors.map((e) => [e.code, e.seq])).toEqual([
      [ErrorCode.outOfRange, 5],
      [ErrorCode.outOfRange, 3],
    ]);
    expect(errors[0].message).toContain('seq must increase');
    socket.close();
  });
});

describe('after the server closes a connection, nothing from it is acted on', () => {
  it('a hello sent after the 4001 close creates and joins nothing', async () => {
    const before = await metricValue(server, 'swarmhost_inputs_total', { result: 'after_close' });
    const peer = await rawUpgrade(server.port, '/lobby/late-hello/ws');
    const { code } = await peer.closeFrame;
    expect(code).toBe(CloseCode.helloTimeout);
    peer.send(Opcode.binary, hello());
    // The server cuts us after closeTimeoutMs (we never answer its close).
    await peer.ended;
    const lobbies = (await (await fetch(`${server.http}/lobbies`)).json()) as {
      lobbies: { id: string }[];
    };
    expect(lobbies.lobbies.map((l) => l.id)).not.toContain('late-hello');
    expect(
      await metricValue(server, 'swarmhost_inputs_total', { result: 'after_close' }),
    ).toBeGreaterThan(before);
  });

  it('100 spawns sent right behind a text frame (1003) spawn nothing', async () => {
    const peer = await rawJoined('late-spawns');
    const particles = async () =>
      (
        (await (await fetch(`${server.http}/lobbies/late-spawns`)).json()) as {
          particles: number;
        }
      ).particles;
    const before = await particles();
    // The text frame and the spawns leave in one write: the server reads
    // them all after deciding to close.
    const spawn = encodeMessage({ t: 'spawn', seq: 1, x: 100, y: 100, count: 500 });
    peer.socket.cork();
    peer.send(Opcode.text, Buffer.from('not msgpack'));
    for (let i = 0; i < 100; i++) peer.send(Opcode.binary, spawn);
    peer.socket.uncork();
    const { code } = await peer.closeFrame;
    expect(code).toBe(CloseCode.unsupportedData);
    await peer.ended;
    // The lobby is empty now; if it still exists its count is unchanged.
    const res = await fetch(`${server.http}/lobbies/late-spawns`);
    if (res.status === 200) expect(await particles()).toBe(before);
  });

  it('a peer that sends its close frame and leaves the TCP connection open is cut too', async () => {
    const lobbyClients = async () => {
      const res = await fetch(`${server.http}/lobbies/half-closed`);
      return res.status === 200 ? ((await res.json()) as { clients: number }).clients : 0;
    };
    const peer = await rawUpgrade(
      server.port,
      '/lobby/half-closed/ws',
      {},
      { allowHalfOpen: true },
    );
    peer.send(Opcode.binary, hello());
    await expect.poll(lobbyClients).toBe(1);
    // Our close frame; then we never end our side of the connection, and
    // ignore the server's end of it: ws times the close out.
    peer.send(Opcode.close, Buffer.from([0x03, 0xe8]));
    const sent = performance.now();
    await expect.poll(lobbyClients, { timeout: CLOSE_TIMEOUT_MS + 5000 }).toBe(0);
    expect(performance.now() - sent).toBeLessThan(CLOSE_TIMEOUT_MS + 5000);
    peer.socket.destroy();
  });

  it('a peer that ignores the close frame is cut after closeTimeoutMs', async () => {
    const before = await metricValue(server, 'swarmhost_peers_cut_total', {
      reason: 'close_timeout',
    });
    const peer = await rawJoined('ignores-close');
    peer.send(Opcode.text, Buffer.from('bye'));
    await peer.closeFrame;
    const sent = performance.now();
    // We never answer the close frame; the server must not wait for ws's 30 s.
    await peer.ended;
    expect(performance.now() - sent).toBeLessThan(CLOSE_TIMEOUT_MS + 5000);
    expect(
      await metricValue(server, 'swarmhost_peers_cut_total', { reason: 'close_timeout' }),
    ).toBe(before + 1);
    await bystander.expectUndisturbed();
  });
});

describe('a steady flood', () => {
  it('at 10x the rate limit gets one rate_limited reply with its first seq, then 1008', async () => {
    const { socket, messages, closedWith } = await connect('flood');
    socket.send(hello());
    await waitFor(() => messages.some((m) => m.t === 'welcome'), 5000, 'welcome');
    let seq = 0;
    // 10x the rate, for as long as it takes: the refill never stops the close.
    const flood = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      for (let i = 0; i < RATE; i++)
        socket.send(encodeMessage({ t: 'input', seq: seq++, x: 1, y: 1, mode: 'none' }));
    }, 100);
    const { code, reason } = await closedWith.finally(() => clearInterval(flood));
    expect(code).toBe(CloseCode.policy);
    expect(reason).toContain('flood');
    const errors = messages.filter((m): m is ErrorMessage => m.t === 'error');
    expect(errors.map((e) => e.code)).toEqual([ErrorCode.rateLimited]);
    // The reply names the first refused input: the bucket held RATE tokens,
    // hello took one, so at least RATE - 1 inputs went through first.
    expect(errors[0].seq).toBeGreaterThanOrEqual(RATE - 1);
    expect(errors[0].seq).toBeLessThan(seq);
    // Inputs below the refused one were accepted and applied (acked).
    const acks = messages.flatMap((m) => (m.t === 'frame' ? [m.ack] : []));
    expect(Math.max(...acks)).toBeGreaterThanOrEqual(RATE - 2);
    await bystander.expectUndisturbed();
  });
});

describe('an unexpected error in a handler', () => {
  it('closes that connection with 1011, is counted, and the server carries on', async () => {
    const directory = server.app.directory;
    const join = directory.join;
    const before = await metricValue(server, 'swarmhost_session_errors_total');
    directory.join = () => {
      throw new Error('injected: join failed');
    };
    try {
      const { socket, closedWith } = await connect('handler-error');
      socket.send(hello());
      expect((await closedWith).code).toBe(CloseCode.internalError);
    } finally {
      directory.join = join;
    }
    expect(await metricValue(server, 'swarmhost_session_errors_total')).toBe(before + 1);
    // The next join of the same lobby works.
    const { socket, messages } = await connect('handler-error');
    socket.send(hello());
    await waitFor(() => messages.some((m) => m.t === 'welcome'), 5000, 'welcome after');
    socket.close();
    await bystander.expectUndisturbed();
  });
});

describe('frames ws refuses itself close with the code ws sends, counted as sent', () => {
  const cases: Array<{ name: string; code: number; send: (peer: RawPeer) => void }> = [
    { name: 'a reserved opcode', code: 1002, send: (p) => p.send(0x3, Buffer.from([1])) },
    {
      name: 'an unmasked client frame',
      code: 1002,
      send: (p) => p.send(Opcode.binary, Buffer.from([1]), { unmasked: true }),
    },
    {
      name: 'text that is not UTF-8',
      code: 1007,
      send: (p) => p.send(Opcode.text, Buffer.from([0xff, 0xfe])),
    },
    {
      name: 'a message over the size limit',
      code: 1009,
      send: (p) => p.send(Opcode.binary, Buffer.alloc(MAX_MESSAGE_BYTES + 1)),
    },
    {
      name: 'one message in 100 fragments',
      code: 1008,
      send: (p) => {
        p.send(Opcode.binary, Buffer.from([0x80]), { fin: false });
        for (let i = 0; i < 99; i++) p.send(Opcode.continuation, Buffer.alloc(0), { fin: false });
        p.send(Opcode.continuation, Buffer.alloc(0));
      },
    },
  ];
  for (const { name, code, send } of cases) {
    it(`${name}: close ${code}`, async () => {
      const before = await metricValue(server, 'swarmhost_ws_closes_total', { code: String(code) });
      const peer = await rawJoined(`ws-${code}`);
      send(peer);
      expect((await peer.closeFrame).code).toBe(code);
      peer.send(Opcode.close, Buffer.from([code >> 8, code & 0xff]));
      await peer.ended;
      await expect
        .poll(() => metricValue(server, 'swarmhost_ws_closes_total', { code: String(code) }))
        .toBe(before + 1);
      await bystander.expectUndisturbed();
    });
  }
});

describe('close codes a client chooses', () => {
  it('are counted under one label, so a client cannot mint metric series', async () => {
    const before = await metricValue(server, 'swarmhost_ws_closes_total', { code: 'other' });
    // Including codes the server itself uses: a client's 1008 is not our policy close.
    for (const code of [3123, 4321, 4999, 1008, 4003]) {
      const { socket, messages, closedWith } = await connect(`client-close-${code}`);
      socket.send(hello());
      await waitFor(() => messages.some((m) => m.t === 'welcome'), 5000, 'welcome');
      socket.close(code, '🦀'.repeat(30));
      await closedWith;
    }
    await expect
      .poll(() => metricValue(server, 'swarmhost_ws_closes_total', { code: 'other' }))
      .toBe(before + 5);
    const text = await (await fetch(`${server.http}/metrics`)).text();
    expect(text).not.toMatch(/code="(3123|4321|4999)"/);
  });
});

describe('no log amplification', () => {
  let noisy: TestServer;
  const lines: Array<{ level: number; msg: string }> = [];
  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n'))
          if (line.startsWith('{')) lines.push(JSON.parse(line));
        done();
      },
    });
    noisy = await startServer(
      { workers: 0, defaultParticles: 100, logLevel: 'info', maxMessageBytes: 256 },
      { logger: true, logStream: stream },
    );
  });
  afterAll(async () => {
    await noisy?.close();
  });

  it('300 malformed frames and 300 bad messages log no error and almost nothing at all', async () => {
    const start = lines.length;
    for (let round = 0; round < 30; round++) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const peer = await rawUpgrade(noisy.port, '/lobby/noise/ws');
          if (i % 2 === 0) peer.send(0x3, Buffer.from([1]));
          else peer.send(Opcode.binary, Buffer.from([0xc1, 0xc1]));
          await peer.closeFrame;
          peer.socket.destroy();
        }),
      );
    }
    const logged = lines.slice(start);
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    // Fastify's access line per upgrade request aside, lobby creation and
    // removal at most: never a line per bad frame.
    const beyondAccessLog = logged.filter((l) => l.msg !== 'incoming request');
    expect(beyondAccessLog.length).toBeLessThan(20);
  });
});
