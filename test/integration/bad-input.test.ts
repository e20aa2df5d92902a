/**
 * Bad input over real sockets: every bad message gets its defined answer (a
 * close code before or instead of joining, an `{t:'error'}` reply after),
 * is counted in /metrics, and never disturbs another client of the same
 * lobby, whose frame count must keep rising after each bad event.
 *
 * Two servers, because one client's rate limit is per connection and the
 * flood test needs a tiny one while the inbox test needs a burst of 30:
 * - `policy`: tiny rate limit, tiny max message size, short hello timeout;
 *   hosts every close-code case and the flood.
 * - `lobby`: default rate limit, inbox of 2, particle cap of 600; hosts the
 *   error replies of a joined connection, the inbox and the particle cap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode } from '../../protocol/close-codes.js';
import { encodeMessage } from '../../protocol/envelope.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import type { ErrorMessage } from '../../protocol/messages.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import {
  closed,
  joinLobby,
  openSocket,
  startServer,
  type TestServer,
  waitFor,
} from '../support/server.js';

const LOBBY = 'bad-input';
const PARTICLES = 500;
const MAX_PARTICLES = 600;
const MAX_MESSAGE_BYTES = 256;
const HELLO_TIMEOUT_MS = 300;

let policy: TestServer;
let lobby: TestServer;
/** A well-behaved client in LOBBY on each server; it must never miss a beat. */
let policyObserver: LobbyClient;
let lobbyObserver: LobbyClient;
const openClients: LobbyClient[] = [];

async function createLobby(server: TestServer, id: string, particles: number): Promise<void> {
  const res = await server.adminFetch('/lobbies', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, particles }),
  });
  expect(res.status).toBe(201);
}

async function join(server: TestServer, id = LOBBY): Promise<LobbyClient> {
  const client = await joinLobby(server, id);
  openClients.push(client);
  expect(client.closeCode).toBeUndefined();
  expect(client.welcome?.lobbyId).toBe(id);
  return client;
}

/** Waits until `client` has received `by` more frames than it had at the call. */
async function framesAdvance(client: LobbyClient, label: string, by = 3): Promise<void> {
  const before = client.frames;
  await waitFor(() => client.frames >= before + by, 5000, `${label}: frames beyond ${before}`);
  expect(client.closeCode).toBeUndefined();
}

/** A raw socket on LOBBY, resolved once open (the hello timer is running from here). */
async function rawSocket(
  server: TestServer,
  headers: Record<string, string> = {},
): Promise<WebSocket> {
  const socket = openSocket(server.wsUrl(LOBBY), headers);
  socket.on('error', () => {
    // Errors surface as the close code the tests assert on.
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('close', (code) => reject(new Error(`closed with ${code} before open`)));
  });
  return socket;
}

/** Opens a socket, sends `messages` at once, and returns how the server closed it. */
async function closeAfter(
  messages: Array<Uint8Array | string>,
): Promise<{ code: number; reason: string }> {
  const socket = await rawSocket(policy);
  const done = closed(socket);
  for (const message of messages) socket.send(message);
  return done;
}

/** Sends one message on a joined client and returns the one error it gets back. */
async function errorFor(client: LobbyClient, message: object): Promise<ErrorMessage> {
  const before = client.errors.length;
  client.sendRaw(message);
  await waitFor(
    () => client.errors.length > before,
    5000,
    `error reply to ${JSON.stringify(message)}`,
  );
  // Exactly one reply per bad message: give a later duplicate the time of a ping to show up.
  await client.ping();
  expect(client.errors.length).toBe(before + 1);
  return client.errors[before];
}

// ── metrics text ───────────────────────────────────────────────────────────
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(server: TestServer): Promise<Sample[]> {
  const res = await fetch(`${server.http}/metrics`);
  expect(res.status).toBe(200);
  return parseMetrics(await res.text());
}

/** Sum of the samples of `name` whose labels include `labels` (0 if none). */
function metric(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

beforeAll(async () => {
  policy = await startServer({
    defaultParticles: PARTICLES,
    maxParticles: MAX_PARTICLES,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    helloTimeoutMs: HELLO_TIMEOUT_MS,
    rateLimitPerSec: 10,
    rateLimitBurst: 5,
    rateLimitFloodSeconds: 1,
  });
  lobby = await startServer({
    defaultParticles: PARTICLES,
    maxParticles: MAX_PARTICLES,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    inboxCapacity: 2,
  });
  await createLobby(policy, LOBBY, PARTICLES);
  await createLobby(lobby, LOBBY, PARTICLES);
  policyObserver = await join(policy);
  lobbyObserver = await join(lobby);
  await framesAdvance(policyObserver, 'policy observer starts');
  await framesAdvance(lobbyObserver, 'lobby observer starts');
});

afterAll(async () => {
  for (const client of openClients) {
    if (client.socket.readyState === WebSocket.OPEN) client.close();
  }
  await Promise.all([policy?.close(), lobby?.close()]);
});

describe('bad input before or instead of joining closes the socket', () => {
  it('a text message closes with 1003', async () => {
    const { code } = await closeAfter(['{"t":"hello","v":1}']);
    expect(code).toBe(CloseCode.unsupportedData);
    await framesAdvance(policyObserver, 'after text message');
  });

  it('truncated msgpack closes with 1007', async () => {
    // fixmap of 2 entries whose first key is a 1-byte string with no byte.
    const { code } = await closeAfter([new Uint8Array([0x82, 0xa1])]);
    expect(code).toBe(CloseCode.invalidPayload);
    await framesAdvance(policyObserver, 'after truncated msgpack');
  });

  it('arbitrary bytes close with 1007', async () => {
    // 0xde = map16 claiming 0xadbe entries, then nothing of the sort.
    const { code } = await closeAfter([new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03])]);
    expect(code).toBe(CloseCode.invalidPayload);
    await framesAdvance(policyObserver, 'after arbitrary bytes');
  });

  it('a valid message followed by trailing bytes closes with 1007', async () => {
    const hello = encodeMessage({ t: 'hello', v: PROTOCOL_VERSION });
    const { code } = await closeAfter([new Uint8Array([...hello, 0x00])]);
    expect(code).toBe(CloseCode.invalidPayload);
    await framesAdvance(policyObserver, 'after trailing bytes');
  });

  // msgpackr decodes the reserved byte 0xC1 to a marker object instead of
  // throwing; decodeMessage must still call it undecodable.
  it('the reserved byte 0xC1 closes with 1007', async () => {
    const { code } = await closeAfter([new Uint8Array([0xc1])]);
    expect(code).toBe(CloseCode.invalidPayload);
    await framesAdvance(policyObserver, 'after 0xC1');
  });

  it('a message larger than maxMessageBytes closes with 1009', async () => {
    // A hello padded past the limit: the size check comes before any parsing.
    const big = encodeMessage({
      t: 'hello',
      v: PROTOCOL_VERSION,
      pad: 'x'.repeat(MAX_MESSAGE_BYTES),
    });
    expect(big.byteLength).toBeGreaterThan(MAX_MESSAGE_BYTES);
    const { code } = await closeAfter([big]);
    expect(code).toBe(CloseCode.tooBig);
    await framesAdvance(policyObserver, 'after oversized message');
  });

  it('a message of exactly maxMessageBytes is accepted', async () => {
    const base = encodeMessage({ t: 'hello', v: PROTOCOL_VERSION, pad: '' });
    // str8 header is 2 bytes for lengths 32..255, fixstr 1 byte for 0..31.
    const padLength = MAX_MESSAGE_BYTES - base.byteLength - 1;
    const exact = encodeMessage({ t: 'hello', v: PROTOCOL_VERSION, pad: 'x'.repeat(padLength) });
    expect(exact.byteLength).toBe(MAX_MESSAGE_BYTES);
    const socket = await rawSocket(policy);
    const got: unknown[] = [];
    socket.on('message', (data) => got.push(data));
    socket.send(exact);
    await waitFor(() => got.length > 0, 5000, 'welcome after max-size hello');
    expect(socket.readyState).toBe(WebSocket.OPEN);
    const done = closed(socket);
    socket.close(1000);
    expect((await done).code).toBe(1000);
  });

  it('a ping as the first message closes with 4006', async () => {
    const { code } = await closeAfter([encodeMessage({ t: 'ping', id: 1 })]);
    expect(code).toBe(CloseCode.expectedHello);
    await framesAdvance(policyObserver, 'after ping before hello');
  });

  it('an input as the first message closes with 4006', async () => {
    const input = encodeMessage({ t: 'input', seq: 0, x: 10, y: 10, mode: 'attract' });
    const { code } = await closeAfter([input]);
    expect(code).toBe(CloseCode.expectedHello);
    await framesAdvance(policyObserver, 'after input before hello');
  });

  it('a map without t as the first message closes with 4006', async () => {
    const { code } = await closeAfter([encodeMessage({ v: PROTOCOL_VERSION })]);
    expect(code).toBe(CloseCode.expectedHello);
    await framesAdvance(policyObserver, 'after map without t before hello');
  });

  it('a hello with the wrong version closes with 4000 naming both versions', async () => {
    const client = await joinLobby(policy, LOBBY, {}, { protocolVersion: 99 });
    expect(client.welcome).toBeUndefined();
    expect(client.closeCode).toBe(CloseCode.versionMismatch);
    expect(client.closeReason).toMatch(new RegExp(`\\b${PROTOCOL_VERSION}\\b`));
    expect(client.closeReason).toMatch(/\b99\b/);
    await framesAdvance(policyObserver, 'after version mismatch');
  });

  it('a client of the previous protocol (protocol 2: the previous view frame format) is refused with 4000', async () => {
    expect(PROTOCOL_VERSION).toBe(3);
    const client = await joinLobby(policy, LOBBY, {}, { protocolVersion: 2 });
    expect(client.welcome).toBeUndefined();
    expect(client.frames).toBe(0);
    expect(client.closeCode).toBe(CloseCode.versionMismatch);
    expect(client.closeReason).toMatch(/server speaks 3, client sent 2/);
  });

  it('no hello within helloTimeoutMs closes with 4001', async () => {
    const opened = performance.now();
    const socket = await rawSocket(policy);
    const { code } = await closed(socket);
    expect(code).toBe(CloseCode.helloTimeout);
    // It is the timer that closed it, not something sooner (1 ms of timer slack).
    expect(performance.now() - opened).toBeGreaterThanOrEqual(HELLO_TIMEOUT_MS - 1);
    await framesAdvance(policyObserver, 'after hello timeout');
  });

  it('a hello in time cancels the hello timeout', async () => {
    const client = await join(policy);
    // Twice the hello timeout, measured in frames (60 Hz) rather than by sleeping.
    await framesAdvance(
      client,
      'past the hello timeout',
      Math.ceil((2 * HELLO_TIMEOUT_MS * 60) / 1000),
    );
    expect(client.closeCode).toBeUndefined();
    client.close();
  });
});

describe('flood', () => {
  it('answers rate_limited once, then closes a flood that outlasts rateLimitFloodSeconds with 1008', async () => {
    const client = await join(policy);
    const errors: ErrorMessage[] = [];
    // 100 pings a second against a rate of 10: refused in every second,
    // so the flood is closed once it has gone on for a whole second.
    let id = 0;
    const flood = setInterval(() => {
      if (client.socket.readyState !== WebSocket.OPEN) return;
      for (let i = 0; i < 10; i++) client.sendRaw({ t: 'ping', id: ++id });
    }, 100);
    await waitFor(() => client.closeCode !== undefined, 5000, 'close after flood').finally(() =>
      clearInterval(flood),
    );
    errors.push(...client.errors);
    expect(client.closeCode).toBe(CloseCode.policy);
    expect(errors.filter((e) => e.code === ErrorCode.rateLimited).length).toBeGreaterThanOrEqual(1);
    // A flood must not be answered with a flood: one reply for the burst.
    expect(errors.length).toBe(1);
    expect(errors.every((e) => e.code === ErrorCode.rateLimited)).toBe(true);
    await framesAdvance(policyObserver, 'after flood');
  });

  it('a client under the rate limit is never refused', async () => {
    const client = await join(policy);
    // Four pings fit in the bucket left after hello; wait for each pong.
    for (let i = 0; i < 4; i++) await client.ping();
    expect(client.errors).toEqual([]);
    expect(client.closeCode).toBeUndefined();
    client.close();
  });
});

describe('bad messages after joining get an error reply and the connection stays open', () => {
  let client: LobbyClient;
  beforeAll(async () => {
    client = await join(lobby);
  });

  const cases: Array<{ name: string; message: object; code: string; seq?: number }> = [
    { name: 'a map without t', message: { seq: 5, x: 1, y: 1 }, code: ErrorCode.invalidMessage },
    { name: 'a non-string t', message: { t: 7 }, code: ErrorCode.invalidMessage },
    { name: 'an array instead of a map', message: [1, 2, 3], code: ErrorCode.invalidMessage },
    { name: 'an unknown t', message: { t: 'dance', seq: 3 }, code: ErrorCode.unknownType },
    {
      name: 'a string x',
      message: { t: 'input', seq: 11, x: 'left', y: 1, mode: 'attract' },
      code: ErrorCode.invalidMessage,
      seq: 11,
    },
    {
      name: 'an unknown mode',
      message: { t: 'input', seq: 12, x: 1, y: 1, mode: 'explode' },
      code: ErrorCode.invalidMessage,
      seq: 12,
    },
    {
      name: 'a string seq',
      message: { t: 'input', seq: '13', x: 1, y: 1, mode: 'attract' },
      code: ErrorCode.invalidMessage,
    },
    {
      name: 'a fractional spawn count',
      message: { t: 'spawn', seq: 14, x: 1, y: 1, count: 1.5 },
      code: ErrorCode.invalidMessage,
      seq: 14,
    },
    {
      name: 'a ping with a string id',
      message: { t: 'ping', id: 'a' },
      code: ErrorCode.invalidMessage,
    },
    {
      name: 'x equal to the world size',
      message: { t: 'input', seq: 21, x: 1000, y: 1, mode: 'attract' },
      code: ErrorCode.outOfRange,
      seq: 21,
    },
    {
      name: 'a negative x',
      message: { t: 'input', seq: 22, x: -0.5, y: 1, mode: 'repel' },
      code: ErrorCode.outOfRange,
      seq: 22,
    },
    {
      name: 'a huge y',
      message: { t: 'spawn', seq: 23, x: 1, y: 1e9, count: 1 },
      code: ErrorCode.outOfRange,
      seq: 23,
    },
    {
      name: 'a NaN x',
      message: { t: 'input', seq: 24, x: Number.NaN, y: 1, mode: 'none' },
      code: ErrorCode.outOfRange,
      seq: 24,
    },
    {
      name: 'a negative seq',
      message: { t: 'input', seq: -1, x: 1, y: 1, mode: 'attract' },
      code: ErrorCode.outOfRange,
    },
    {
      name: 'a seq above uint32',
      message: { t: 'input', seq: 2 ** 32, x: 1, y: 1, mode: 'attract' },
      code: ErrorCode.outOfRange,
    },
    {
      name: 'a spawn count of 0',
      message: { t: 'spawn', seq: 25, x: 1, y: 1, count: 0 },
      code: ErrorCode.outOfRange,
      seq: 25,
    },
    {
      name: 'a spawn count above maxSpawn',
      message: { t: 'spawn', seq: 26, x: 1, y: 1, count: 501 },
      code: ErrorCode.outOfRange,
      seq: 26,
    },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.code}${c.seq === undefined ? '' : ` (seq ${c.seq})`}`, async () => {
      const error = await errorFor(client, c.message);
      expect(error.code).toBe(c.code);
      expect(typeof error.message).toBe('string');
      expect(error.message.length).toBeGreaterThan(0);
      if (c.seq !== undefined) expect(error.seq).toBe(c.seq);
      await framesAdvance(client, `bad client after ${c.name}`);
      await framesAdvance(lobbyObserver, `observer after ${c.name}`);
    });
  }

  it('a second hello → already_joined', async () => {
    const error = await errorFor(client, { t: 'hello', v: PROTOCOL_VERSION });
    expect(error.code).toBe(ErrorCode.alreadyJoined);
    expect(error.seq).toBeUndefined();
    await framesAdvance(client, 'bad client after second hello');
    await framesAdvance(lobbyObserver, 'observer after second hello');
  });

  it('a valid input still works after all that', async () => {
    const seq = client.sendInput(500, 500, 'attract');
    await waitFor(() => client.ack >= seq, 5000, `ack of seq ${seq}`);
    expect(client.ack).toBe(seq);
    expect(client.closeCode).toBeUndefined();
    expect(client.status?.clients).toBe(2);
  });
});

describe('lobby inbox and particle cap', () => {
  it('refuses inputs beyond the inbox with inbox_full and applies every accepted one', async () => {
    const client = await join(lobby);
    const sent: number[] = [];
    for (let i = 0; i < 30; i++)
      sent.push(client.sendInput(100 + i, 200, i % 2 === 0 ? 'attract' : 'repel'));
    expect(sent).toEqual([...Array(30).keys()]);

    // Every refused seq is named by one inbox_full error, so wait for the
    // accepted ones to be acknowledged and the refusals to have arrived.
    await waitFor(() => client.errors.length > 0, 5000, 'an inbox_full error');
    const refused = () => new Set(client.errors.map((e) => e.seq));
    const highestAccepted = () => Math.max(...sent.filter((s) => !refused().has(s)));
    await waitFor(() => client.ack === highestAccepted(), 5000, 'ack of the highest accepted seq');
    // A ping round trip: any error still in flight has arrived by now.
    await client.ping();

    expect(client.errors.length).toBeGreaterThanOrEqual(1);
    for (const error of client.errors) {
      expect(error.code).toBe(ErrorCode.inboxFull);
      expect(sent).toContain(error.seq);
    }
    const refusedSeqs = client.errors.map((e) => e.seq as number);
    expect(new Set(refusedSeqs).size).toBe(refusedSeqs.length);
    const accepted = sent.filter((s) => !refused().has(s));
    // The inbox holds 2, so at least the first two got in.
    expect(accepted.slice(0, 2)).toEqual([0, 1]);
    expect(client.ack).toBe(Math.max(...accepted));
    expect(client.closeCode).toBeUndefined();

    const samples = await scrape(lobby);
    expect(metric(samples, 'swarmhost_inputs_total', { result: 'inbox_full' })).toBe(
      refusedSeqs.length,
    );
    // The joined-client test before this one had one accepted input.
    expect(metric(samples, 'swarmhost_inputs_total', { result: 'accepted' })).toBe(
      accepted.length + 1,
    );

    await framesAdvance(client, 'client after inbox_full');
    await framesAdvance(lobbyObserver, 'observer after inbox_full');
    client.close();
  });

  it('refuses a spawn over the particle cap with particle_cap and spawns nothing', async () => {
    const client = await join(lobby);
    await waitFor(() => client.frames > 0, 5000, 'first frame');
    expect(client.welcome?.maxParticles).toBe(MAX_PARTICLES);
    expect(client.decoder?.count).toBe(PARTICLES);

    const seq = client.spawn(500, 500, 200);
    await waitFor(() => client.errors.length > 0, 5000, 'particle_cap error');
    expect(client.errors).toHaveLength(1);
    expect(client.errors[0].code).toBe(ErrorCode.particleCap);
    expect(client.errors[0].seq).toBe(seq);
    // Refused, yet processed in order: it is acknowledged like any input.
    await waitFor(() => client.ack >= seq, 5000, 'ack of the refused spawn');
    await framesAdvance(client, 'frames after the refused spawn');
    expect(client.decoder?.count).toBe(PARTICLES);
    expect(lobbyObserver.decoder?.count).toBe(PARTICLES);
    expect(client.status?.particles).toBe(PARTICLES);
    await framesAdvance(lobbyObserver, 'observer after particle_cap');

    // Exactly up to the cap is allowed.
    const fill = client.spawn(500, 500, MAX_PARTICLES - PARTICLES);
    await waitFor(() => client.ack >= fill, 5000, 'ack of the filling spawn');
    await waitFor(() => client.decoder?.count === MAX_PARTICLES, 5000, 'count at the cap');
    await waitFor(() => client.status?.particles === MAX_PARTICLES, 5000, 'status at the cap');
    expect(client.errors).toHaveLength(1);

    // And one more is not.
    const over = client.spawn(500, 500, 1);
    await waitFor(() => client.errors.length > 1, 5000, 'second particle_cap error');
    expect(client.errors[1]).toMatchObject({ code: ErrorCode.particleCap, seq: over });
    await waitFor(() => client.ack >= over, 5000, 'ack of the second refused spawn');
    await framesAdvance(client, 'frames after the second refused spawn');
    expect(client.decoder?.count).toBe(MAX_PARTICLES);
    await framesAdvance(lobbyObserver, 'observer after second particle_cap');
    client.close();
  });
});

describe('metrics count every bad input', () => {
  it('the policy server counts each close code and refusal', async () => {
    const samples = await scrape(policy);
    const closes = (code: number) =>
      metric(samples, 'swarmhost_ws_closes_total', { code: String(code) });
    expect(closes(CloseCode.unsupportedData)).toBe(1);
    // truncated, arbitrary, trailing bytes, 0xC1.
    expect(closes(CloseCode.invalidPayload)).toBe(4);
    // ping, input and a map without t first.
    expect(closes(CloseCode.expectedHello)).toBe(3);
    // Version 99 and version 1 (the previous protocol).
    expect(closes(CloseCode.versionMismatch)).toBe(2);
    expect(closes(CloseCode.helloTimeout)).toBe(1);
    expect(closes(CloseCode.policy)).toBe(1);

    // text + 4 undecodable + 3 not-hello first messages.
    expect(metric(samples, 'swarmhost_inputs_total', { result: 'invalid' })).toBe(8);
    // 100 pings a second against 10 allowed, for at least a second: most are refused.
    expect(
      metric(samples, 'swarmhost_inputs_total', { result: 'rate_limited' }),
    ).toBeGreaterThanOrEqual(50);
    expect(metric(samples, 'swarmhost_handshakes_refused_total', { reason: 'version' })).toBe(2);
  });

  // BUG: src/client-session.ts:62/250 counts the code of ws's 'close' event,
  // which is the code the peer sent back, not the one the server closed with.
  // For 1009, ws stops reading the socket after sending its close frame, never
  // sees the echo, and reports 1006, so the close is counted as code="1006".
  it('the policy server counts the oversized message under code 1009', async () => {
    const samples = await scrape(policy);
    expect(metric(samples, 'swarmhost_ws_closes_total', { code: String(CloseCode.tooBig) })).toBe(
      1,
    );
    expect(metric(samples, 'swarmhost_ws_closes_total', { code: '1006' })).toBe(0);
  });

  it('the lobby server counts each refused message by result', async () => {
    const samples = await scrape(lobby);
    const inputs = (result: string) => metric(samples, 'swarmhost_inputs_total', { result });
    // 8 invalid_message + 1 unknown_type + 1 already_joined replies.
    expect(inputs('invalid')).toBe(10);
    expect(inputs('out_of_range')).toBe(8);
    expect(inputs('inbox_full')).toBeGreaterThan(0);
    expect(inputs('particle_cap')).toBe(2);
    expect(inputs('rate_limited')).toBe(0);
    // Nothing on this server was closed by the server.
    for (const code of [1003, 1007, 1008, 1009, 4000, 4001, 4006]) {
      expect(metric(samples, 'swarmhost_ws_closes_total', { code: String(code) })).toBe(0);
    }
  });

  it('the observers never missed a beat', async () => {
    await framesAdvance(policyObserver, 'policy observer at the end');
    await framesAdvance(lobbyObserver, 'lobby observer at the end');
    expect(policyObserver.errors).toEqual([]);
    expect(lobbyObserver.errors).toEqual([]);
    expect(policyObserver.keyframes).toBe(1);
    expect(lobbyObserver.keyframes).toBe(1);
  });
});
