/**
 * Players' stats reports over real sockets: an accepted report lands in
 * /metrics (the swarmhost_client_* histograms and counters) and in
 * /status (its own lobby's `players` only); every field's bad types and
 * ranges get their error reply and are counted, whatever msgpack width or
 * float carries them (and a fast-check property over arbitrary maps with
 * `t: 'stats'`); a flood of reports is answered `rate_limited` with the
 * socket left open and a bystander undisturbed; a stats message before the
 * hello closes 4006; a report after the close is ignored.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode } from '../../protocol/close-codes.js';
import { decodeMessage, encodeMessage } from '../../protocol/envelope.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  type ErrorMessage,
  parseClientMessage,
  type ServerMessage,
  STATS_FIELDS,
  type StatsReport,
} from '../../protocol/messages.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import type { PlayersSummary } from '../../src/player-experience.js';
import { fuzzedFields, makePayload } from '../fuzz/arbitraries.js';
import { type Bystander, joinBystander } from '../support/bystander.js';
import { metricValue } from '../support/metrics.js';
import {
  encodeNode,
  float64,
  INT_FORMATS,
  type IntFormat,
  int,
  type MsgpackNode,
  record,
  str,
} from '../support/msgpack-bytes.js';
import { Opcode, rawUpgrade } from '../support/raw-socket.js';
import {
  closed,
  joinLobby,
  openSocket,
  startServer,
  type TestServer,
  waitFor,
} from '../support/server.js';

const FIELDS = Object.keys(STATS_FIELDS) as (keyof StatsReport)[];
const REPORT: StatsReport = { fps: 60, received: 120, skipped: 0, decodeMs: 0.25 };
const REPORTS = 'swarmhost_client_stats_reports_total';
const LIMITS = { maxMessageBytes: 4096, worldSize: 1000, maxSpawn: 500 };

let server: TestServer;
/** A server whose rate limits let hundreds of reports through: for checking answers one by one. */
let open: TestServer;
let bystander: Bystander;

beforeAll(async () => {
  server = await startServer({ workers: 0, defaultParticles: 200, closeTimeoutMs: 300, ...LIMITS });
  open = await startServer({
    workers: 0,
    defaultParticles: 100,
    ...LIMITS,
    rateLimitPerSec: 100_000,
    rateLimitBurst: 100_000,
    statsRatePerSec: 1000,
    statsBurst: 100_000,
  });
  bystander = await joinBystander(server);
});

afterAll(async () => {
  bystander?.close();
  await server?.close();
  await open?.close();
});

beforeEach(() => bystander.mark());

const reports = (result: string, on = server) => metricValue(on, REPORTS, { result });

interface StatusLobby {
  id: string;
  players: PlayersSummary;
}
async function status(): Promise<{ lobbies: StatusLobby[]; totals: { players: PlayersSummary } }> {
  return (await fetch(`${server.admin}/status`)).json() as never;
}
const playersOf = async (lobby: string) =>
  (await status()).lobbies.find((l) => l.id === lobby)?.players;

/** A raw joined socket that records every server message, for answers to hand-built bytes. */
async function rawJoined(on: TestServer, lobbyId: string) {
  const socket = openSocket(on.wsUrl(lobbyId));
  const messages: ServerMessage[] = [];
  socket.on('message', (data: Buffer) => {
    const decoded = decodeMessage(new Uint8Array(data));
    if (decoded.ok) messages.push(decoded.value as ServerMessage);
  });
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION }));
  await waitFor(() => messages.some((m) => m.t === 'welcome'), 5000, 'welcome');
  let pingId = 0;
  return {
    socket,
    messages,
    /**
     * Sends `bytes` and a ping after it; resolves with the error replies in
     * between (the server answers in order), so "no reply" is observable.
     */
    async answer(bytes: Uint8Array): Promise<ErrorMessage[]> {
      const from = messages.length;
      const id = ++pingId;
      socket.send(bytes);
      socket.send(encodeMessage({ t: 'ping', id }));
      const pong = () => messages.findIndex((m, i) => i >= from && m.t === 'pong' && m.id === id);
      await waitFor(() => pong() >= 0, 5000, `pong ${id}`);
      return messages.slice(from, pong()).filter((m): m is ErrorMessage => m.t === 'error');
    },
  };
}

const packed = (fields: Record<string, MsgpackNode>) => encodeNode(record(fields));
/** A report with one field written as `node`, every other field valid. */
const withField = (name: string, node: MsgpackNode) =>
  packed({
    t: str('stats'),
    fps: float64(REPORT.fps),
    received: int(REPORT.received),
    skipped: int(REPORT.skipped),
    decodeMs: float64(REPORT.decodeMs),
    [name]: node,
  });

describe('an accepted report', () => {
  it('lands in /metrics and in its own lobby’s /status players, and leaves with its player', async () => {
    const first = await joinLobby(server, 'reporting');
    const second = await joinLobby(server, 'reporting');
    const quiet = await joinLobby(server, 'quiet');
    const accepted = await reports('accepted');
    const fpsCount = await metricValue(server, 'swarmhost_client_fps_count');
    const received = await metricValue(server, 'swarmhost_client_frames_received_total');

    first.sendStats({
      fps: 58,
      received: 116,
      skipped: 4,
      decodeMs: 0.5,
      rttMs: 3,
      bufferMs: 40,
      latencyMs: 12,
    });
    second.sendStats({ fps: 30, received: 60, skipped: 60, decodeMs: 1.5 });
    const deadline = Date.now() + 5000;
    while ((await reports('accepted')) < accepted + 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(await reports('accepted')).toBe(accepted + 2);
    expect(first.errors).toEqual([]);
    expect(second.errors).toEqual([]);

    expect(await metricValue(server, 'swarmhost_client_fps_count')).toBe(fpsCount + 2);
    expect(await metricValue(server, 'swarmhost_client_frames_received_total')).toBe(
      received + 176,
    );
    // Only the first reported the optional measures: one observation each, in seconds.
    const latencyBucket = (le: string) =>
      metricValue(server, 'swarmhost_client_latency_seconds_bucket', { le });
    expect((await latencyBucket('0.015')) - (await latencyBucket('0.01'))).toBe(1);
    expect(await metricValue(server, 'swarmhost_client_interp_buffer_seconds_count')).toBe(1);
    expect(await metricValue(server, 'swarmhost_client_rtt_seconds_sum')).toBeCloseTo(0.003, 9);

    expect(await playersOf('reporting')).toEqual({
      reporting: 2,
      fpsMean: 44,
      fpsMin: 30,
      latencyMeanMs: 12,
      latencyP99Ms: 12,
      rttMeanMs: 3,
      rttP99Ms: 3,
      decodeMeanMs: 1,
      bufferMeanMs: 40,
      bufferP99Ms: 40,
      // 60 Hz × 4/120 and 60 Hz × 60/120: 2 and 30 ticks a second without a frame.
      skippedPerSecond: 16,
    });
    const none = {
      reporting: 0,
      fpsMean: null,
      fpsMin: null,
      latencyMeanMs: null,
      latencyP99Ms: null,
      rttMeanMs: null,
      rttP99Ms: null,
      decodeMeanMs: null,
      bufferMeanMs: null,
      bufferP99Ms: null,
      skippedPerSecond: null,
    };
    expect(await playersOf('quiet')).toEqual(none);
    expect(await playersOf('bystander')).toEqual(none);
    expect((await status()).totals.players.reporting).toBe(2);

    // A player that leaves takes its report with it.
    second.close();
    await pollFor(async () => (await playersOf('reporting'))?.reporting === 1, 'second gone');
    expect(await playersOf('reporting')).toMatchObject({ reporting: 1, fpsMean: 58, fpsMin: 58 });
    for (const client of [first, quiet]) client.close();
  });

  it('a newer report replaces its player’s older one', async () => {
    const player = await joinLobby(server, 'replacing');
    player.sendStats({ ...REPORT, fps: 20 });
    await pollFor(async () => (await playersOf('replacing'))?.fpsMean === 20, 'first report');
    player.sendStats({ ...REPORT, fps: 50 });
    await pollFor(async () => (await playersOf('replacing'))?.fpsMean === 50, 'second report');
    expect(await playersOf('replacing')).toMatchObject({ reporting: 1, fpsMin: 50 });
    player.close();
  });
});

async function pollFor(predicate: () => Promise<boolean>, label: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bad reports get their error and are counted; the socket stays', () => {
  it('each field: wrong types and missing are invalid_message, out of range is out_of_range', async () => {
    const peer = await rawJoined(server, 'bad-fields');
    const before = {
      invalid: await reports('invalid_message'),
      range: await reports('out_of_range'),
      accepted: await reports('accepted'),
    };
    let invalid = 0;
    let range = 0;
    for (const name of FIELDS) {
      const { max, optional } = STATS_FIELDS[name];
      for (const node of [str('1'), { type: 'bool', value: true } as MsgpackNode, record({})]) {
        expect(await peer.answer(withField(name, node)), `${name} ${node.type}`).toMatchObject([
          { code: ErrorCode.invalidMessage },
        ]);
        invalid++;
      }
      for (const value of [Number.NaN, Number.POSITIVE_INFINITY, -1, max + 1, 2 ** 64]) {
        expect(
          await peer.answer(withField(name, float64(value))),
          `${name}=${value}`,
        ).toMatchObject([{ code: ErrorCode.outOfRange }]);
        range++;
      }
      if (!optional) {
        const { [name]: _, ...without } = { t: 'stats', ...REPORT };
        expect(await peer.answer(encodeMessage(without)), `${name} missing`).toMatchObject([
          { code: ErrorCode.invalidMessage },
        ]);
        invalid++;
      }
    }
    expect(await reports('invalid_message')).toBe(before.invalid + invalid);
    expect(await reports('out_of_range')).toBe(before.range + range);
    expect(await reports('accepted')).toBe(before.accepted);
    expect(peer.socket.readyState).toBe(WebSocket.OPEN);
    // Nothing refused reached the lobby's players.
    expect((await playersOf('bad-fields'))?.reporting).toBe(0);
    peer.socket.close();
    await bystander.expectUndisturbed();
  });

  it('integers of every msgpack width, and special floats, in every field', async () => {
    const peer = await rawJoined(open, 'widths');
    for (const name of FIELDS) {
      const { max } = STATS_FIELDS[name];
      for (const format of Object.keys(INT_FORMATS) as IntFormat[]) {
        const { min: lo, max: hi } = INT_FORMATS[format];
        for (const value of new Set([lo, hi, 0n, 1n].filter((v) => v >= lo && v <= hi))) {
          const n = Number(value);
          const want = n >= 0 && n <= max ? [] : [{ code: ErrorCode.outOfRange }];
          expect(
            await peer.answer(withField(name, int(value, format))),
            `${name}=${value} as ${format}`,
          ).toMatchObject(want);
        }
      }
      const floats: Array<[MsgpackNode, string | undefined]> = [
        [float64(-0), undefined],
        [float64(Number.MIN_VALUE), STATS_FIELDS[name].integer ? 'invalid_message' : undefined],
        [float64(Number.NEGATIVE_INFINITY), 'out_of_range'],
        [float64(Number.MAX_VALUE), 'out_of_range'],
        [{ type: 'float32', value: Number.NaN }, 'out_of_range'],
        [{ type: 'float32', value: 3 }, undefined],
      ];
      for (const [node, code] of floats) {
        expect(
          await peer.answer(withField(name, node)),
          `${name}=${JSON.stringify(node)}`,
        ).toMatchObject(code ? [{ code }] : []);
      }
    }
    expect(peer.socket.readyState).toBe(WebSocket.OPEN);
    peer.socket.close();
  });

  it('property: any map with t "stats" is accepted or gets its defined error, counted, never a crash', async () => {
    const peer = await rawJoined(open, 'property');
    const before = new Map<string, number>();
    for (const result of ['accepted', 'invalid_message', 'out_of_range'])
      before.set(result, await reports(result, open));
    const expected = new Map<string, number>();
    const stats = fuzzedFields('stats', LIMITS).filter((payload) => {
      // Bytes that do not decode close the socket (1007), a message over
      // the size cap closes it (1009), and a duplicate `t` may name another
      // type: all three are other tests' business.
      if (payload.bytes.byteLength > LIMITS.maxMessageBytes) return false;
      const decoded = decodeMessage(payload.bytes);
      return decoded.ok && (decoded.value as { t?: unknown }).t === 'stats';
    });
    await fc.assert(
      fc.asyncProperty(stats, async (payload) => {
        const decoded = decodeMessage(payload.bytes);
        const parsed = parseClientMessage(decoded.ok ? decoded.value : undefined, LIMITS);
        const answer = await peer.answer(payload.bytes);
        const result = parsed.ok ? 'accepted' : parsed.code;
        expect(['accepted', 'invalid_message', 'out_of_range']).toContain(result);
        expect(answer.map((e) => e.code)).toEqual(parsed.ok ? [] : [parsed.code]);
        expected.set(result, (expected.get(result) ?? 0) + 1);
      }),
      {
        numRuns: 300,
        // Random fields rarely line up into a whole valid report (one run
        // in CI drew none), so a well-formed one is always among the runs.
        examples: [[makePayload(encodeMessage({ t: 'stats', ...REPORT }), 'a valid report')]],
      },
    );
    for (const [result, count] of expected)
      expect((await reports(result, open)) - (before.get(result) ?? 0), result).toBe(count);
    expect(expected.get('accepted')).toBeGreaterThan(0);
    expect(peer.socket.readyState).toBe(WebSocket.OPEN);
    peer.socket.close();
  }, 60_000);
});

describe('the stats rate limit', () => {
  it('answers a flood of reports rate_limited, counts them, keeps the socket and the bystander', async () => {
    const peer = await rawJoined(server, 'stats-flood');
    const accepted = await reports('accepted');
    const limited = await reports('rate_limited');
    // 100 a second for 2 s: within the message rate limit (120/s), far over
    // the stats one (1/s, burst 3).
    for (let second = 0; second < 2; second++) {
      for (let i = 0; i < 100; i++) peer.socket.send(encodeMessage({ t: 'stats', ...REPORT }));
      await new Promise((r) => setTimeout(r, 1000));
    }
    // A ping behind them all: its pong comes after every answer.
    await peer.answer(encodeMessage({ t: 'ping', id: 0 }));
    const refused = peer.messages.filter((m) => m.t === 'error');
    expect(new Set(refused.map((m) => (m as ErrorMessage).code))).toEqual(
      new Set([ErrorCode.rateLimited]),
    );
    const took = (await reports('accepted')) - accepted;
    // The burst, plus what a second or two of refill allows.
    expect(took).toBeGreaterThanOrEqual(3);
    expect(took).toBeLessThanOrEqual(6);
    expect(refused.length).toBe(200 - took);
    expect((await reports('rate_limited')) - limited).toBe(200 - took);
    expect(peer.socket.readyState).toBe(WebSocket.OPEN);
    expect(await metricValue(server, 'swarmhost_inputs_total', { result: 'rate_limited' })).toBe(0);
    // Still a player: a report once the bucket refills is accepted.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await peer.answer(encodeMessage({ t: 'stats', ...REPORT }))).toEqual([]);
    peer.socket.close();
    await bystander.expectUndisturbed();
  }, 15_000);
});

describe('reports outside a joined session', () => {
  it('a stats message before the hello closes 4006, counted not_joined', async () => {
    const notJoined = await reports('not_joined');
    const socket = openSocket(server.wsUrl('early'));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(encodeMessage({ t: 'stats', ...REPORT }));
    const { code, reason } = await closed(socket);
    expect(code).toBe(CloseCode.expectedHello);
    expect(reason).toMatch(/hello/);
    expect(await reports('not_joined')).toBe(notJoined + 1);
  });

  it('a report sent after the server closed is ignored, and the closed session’s report leaves /status', async () => {
    const peer = await rawUpgrade(server.port, '/lobby/after-close/ws');
    peer.send(Opcode.binary, encodeMessage({ t: 'hello', v: PROTOCOL_VERSION }));
    await waitFor(() => peer.received.includes(Opcode.binary), 5000, 'welcome');
    const accepted = await reports('accepted');
    peer.send(Opcode.binary, encodeMessage({ t: 'stats', ...REPORT }));
    await pollFor(async () => (await playersOf('after-close'))?.reporting === 1, 'first report');
    const afterClose = await metricValue(server, 'swarmhost_inputs_total', {
      result: 'after_close',
    });
    // A text frame (closed with 1003) and a report behind it in one write:
    // the server reads the report after deciding to close.
    peer.socket.cork();
    peer.send(Opcode.text, Buffer.from('not msgpack'));
    peer.send(Opcode.binary, encodeMessage({ t: 'stats', ...REPORT, fps: 1 }));
    peer.socket.uncork();
    expect((await peer.closeFrame).code).toBe(CloseCode.unsupportedData);
    await peer.ended;
    expect(
      await metricValue(server, 'swarmhost_inputs_total', { result: 'after_close' }),
    ).toBeGreaterThan(afterClose);
    expect(await reports('accepted')).toBe(accepted + 1);
    expect((await playersOf('after-close'))?.reporting ?? 0).toBe(0);
  });
});
