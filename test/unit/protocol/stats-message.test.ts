/**
 * The stats report: parseClientMessage's answer for each field's types and
 * ranges, forward compatibility (unknown fields ignored), and
 * LobbyClient.sendStats putting on the wire what the parser accepts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../../protocol/envelope.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { LobbyClient, type SocketLike } from '../../../protocol/lobby-client.js';
import { parseClientMessage, STATS_FIELDS, type StatsReport } from '../../../protocol/messages.js';

const parse = (value: unknown) => parseClientMessage(value, { worldSize: 1000, maxSpawn: 500 });
const REPORT: StatsReport = { fps: 59.5, received: 119, skipped: 1, decodeMs: 0.4 };
const stats = (fields: Record<string, unknown>) => ({ t: 'stats', ...REPORT, ...fields });
const FIELDS = Object.keys(STATS_FIELDS) as (keyof StatsReport)[];

function code(value: unknown): string {
  const result = parse(value);
  if (result.ok) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  expect(result.reason).toMatch(/stats/);
  return result.code;
}

describe('stats messages', () => {
  it('accepts the required fields alone, and every field at both ends of its range', () => {
    expect(parse(stats({}))).toEqual({ ok: true, message: { t: 'stats', ...REPORT } });
    for (const name of FIELDS) {
      for (const value of [0, STATS_FIELDS[name].max]) {
        const result = parse(stats({ [name]: value }));
        expect(result, `${name}=${value}`).toEqual({
          ok: true,
          message: { t: 'stats', ...REPORT, [name]: value },
        });
      }
    }
  });

  it('treats an absent or nil optional field as not reported', () => {
    const full = { ...REPORT, rttMs: 12.5, bufferMs: 50, latencyMs: 20 };
    expect(parse({ t: 'stats', ...full })).toEqual({ ok: true, message: { t: 'stats', ...full } });
    expect(parse(stats({ rttMs: null, bufferMs: undefined }))).toEqual({
      ok: true,
      message: { t: 'stats', ...REPORT },
    });
  });

  it('ignores fields it does not know, and leaves them out of the message', () => {
    const result = parse(stats({ jank: 3, fps2: 'x', nested: { a: 1 } }));
    expect(result).toEqual({ ok: true, message: { t: 'stats', ...REPORT } });
  });

  it('refuses a missing required field or a wrong type with invalid_message', () => {
    for (const name of FIELDS) {
      const wrongTypes: unknown[] = ['1', true, [1], { v: 1 }, new Uint8Array(1), 1n];
      for (const wrong of wrongTypes)
        expect(code(stats({ [name]: wrong })), `${name}=${String(wrong)}`).toBe(
          ErrorCode.invalidMessage,
        );
      if (!STATS_FIELDS[name].optional) {
        const { [name]: _, ...without } = stats({});
        expect(code(without), `${name} missing`).toBe(ErrorCode.invalidMessage);
        expect(code(stats({ [name]: null })), `${name} nil`).toBe(ErrorCode.invalidMessage);
      }
    }
  });

  it('refuses NaN, infinities, negatives and values past the maximum with out_of_range', () => {
    for (const name of FIELDS) {
      const max = STATS_FIELDS[name].max;
      for (const bad of [
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        -1,
        -Number.MIN_VALUE,
        max + 1,
        2 ** 64,
        Number.MAX_VALUE,
      ]) {
        expect(code(stats({ [name]: bad })), `${name}=${bad}`).toBe(ErrorCode.outOfRange);
      }
    }
  });

  it('refuses a fractional count with invalid_message, and takes fractions elsewhere', () => {
    expect(code(stats({ received: 1.5 }))).toBe(ErrorCode.invalidMessage);
    expect(code(stats({ skipped: 0.1 }))).toBe(ErrorCode.invalidMessage);
    expect(parse(stats({ fps: 0.5, decodeMs: 0.001 })).ok).toBe(true);
  });
});

describe('LobbyClient.sendStats', () => {
  function fakeClient() {
    const sent: Uint8Array[] = [];
    const socket: SocketLike = {
      binaryType: 'arraybuffer',
      readyState: 0,
      send: (data) => sent.push(data),
      close: () => {},
      addEventListener: () => {},
    };
    return { client: new LobbyClient(socket), sent };
  }

  it('sends a stats message the server accepts as it was reported, without absent fields', () => {
    const { client, sent } = fakeClient();
    client.sendStats({ ...REPORT, latencyMs: 18.25, rttMs: undefined });
    expect(sent).toHaveLength(1);
    const decoded = decodeMessage(sent[0]);
    expect(decoded.ok && decoded.value).toEqual({ t: 'stats', ...REPORT, latencyMs: 18.25 });
    expect(Object.keys(decoded.ok ? (decoded.value as object) : {})).not.toContain('rttMs');
    expect(parse(decoded.ok && decoded.value)).toEqual({
      ok: true,
      message: { t: 'stats', ...REPORT, latencyMs: 18.25 },
    });
  });
});

describe('docs/PROTOCOL.md', () => {
  it('lists every stats field with its range and whether it is optional', () => {
    const doc = readFileSync(new URL('../../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    for (const name of FIELDS) {
      const { max, integer, optional } = STATS_FIELDS[name];
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      expect(row, name).toBeDefined();
      const shown = max === 0xffff_ffff ? '2³²−1' : String(max);
      expect(row, name).toContain(`${integer ? 'integer' : 'number'} in [0, ${shown}]`);
      expect(row?.includes('(optional)'), name).toBe(optional);
    }
  });
});
