import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../protocol/envelope.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import {
  type FrameMessage,
  MAX_SEQ,
  parseClientMessage,
  type ValidationLimits,
} from '../../../protocol/messages.js';

const limits: ValidationLimits = { worldSize: 1000, maxSpawn: 500 };
const parse = (value: unknown) => parseClientMessage(value, limits);

/** The failure shape, with `seq` present only when echoed. */
function failure(value: unknown): { code: string; seq?: number } {
  const result = parse(value);
  if (result.ok) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  expect(typeof result.reason).toBe('string');
  expect(result.reason.length).toBeGreaterThan(0);
  return 'seq' in result ? { code: result.code, seq: result.seq } : { code: result.code };
}

const input = (fields: Record<string, unknown>) => ({
  t: 'input',
  seq: 7,
  x: 10,
  y: 20,
  mode: 'attract',
  ...fields,
});
const spawn = (fields: Record<string, unknown>) => ({
  t: 'spawn',
  seq: 9,
  x: 10,
  y: 20,
  count: 5,
  ...fields,
});

describe('parseClientMessage accepts every valid shape', () => {
  it('hello', () => {
    expect(parse({ t: 'hello', v: 1 })).toEqual({ ok: true, message: { t: 'hello', v: 1 } });
    expect(parse({ t: 'hello', v: 0 })).toEqual({ ok: true, message: { t: 'hello', v: 0 } });
  });

  it('ping, with any finite numeric id', () => {
    expect(parse({ t: 'ping', id: 42 })).toEqual({ ok: true, message: { t: 'ping', id: 42 } });
    expect(parse({ t: 'ping', id: 1.5 })).toEqual({ ok: true, message: { t: 'ping', id: 1.5 } });
    expect(parse({ t: 'ping', id: -3 })).toEqual({ ok: true, message: { t: 'ping', id: -3 } });
  });

  it('input in every mode', () => {
    for (const mode of ['attract', 'repel', 'none']) {
      expect(parse({ t: 'input', seq: 3, x: 1.25, y: 999.5, mode })).toEqual({
        ok: true,
        message: { t: 'input', seq: 3, x: 1.25, y: 999.5, mode },
      });
    }
  });

  it('spawn', () => {
    expect(parse({ t: 'spawn', seq: 4, x: 500, y: 0.5, count: 12 })).toEqual({
      ok: true,
      message: { t: 'spawn', seq: 4, x: 500, y: 0.5, count: 12 },
    });
  });

  it('drops unknown extra fields', () => {
    expect(parse({ t: 'hello', v: 2, extra: 'x' })).toEqual({
      ok: true,
      message: { t: 'hello', v: 2 },
    });
    expect(parse({ ...input({}), admin: true })).toEqual({
      ok: true,
      message: { t: 'input', seq: 7, x: 10, y: 20, mode: 'attract' },
    });
    expect(parse({ ...spawn({}), force: 1e9 })).toEqual({
      ok: true,
      message: { t: 'spawn', seq: 9, x: 10, y: 20, count: 5 },
    });
  });
});

describe('parseClientMessage refuses what is not a map', () => {
  const values: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['array', [{ t: 'hello', v: 1 }]],
    ['empty array', []],
    ['number', 42],
    ['string', 'hello'],
    ['boolean', true],
    ['Uint8Array', new Uint8Array([0x81, 0xa1, 0x74])],
    ['DataView', new DataView(new ArrayBuffer(4))],
  ];
  for (const [label, value] of values) {
    it(label, () => {
      expect(failure(value)).toEqual({ code: ErrorCode.invalidMessage });
    });
  }
});

describe('parseClientMessage type field', () => {
  it('a missing or non-string t is invalid_message', () => {
    expect(failure({})).toEqual({ code: 'invalid_message' });
    expect(failure({ v: 1 })).toEqual({ code: 'invalid_message' });
    expect(failure({ t: 1 })).toEqual({ code: 'invalid_message' });
    expect(failure({ t: null })).toEqual({ code: 'invalid_message' });
    expect(failure({ t: ['hello'] })).toEqual({ code: 'invalid_message' });
  });

  it('an unknown string t is unknown_type, with a bounded reason', () => {
    expect(failure({ t: 'teleport', seq: 1 })).toEqual({ code: 'unknown_type' });
    expect(failure({ t: '' })).toEqual({ code: 'unknown_type' });
    expect(failure({ t: 'HELLO', v: 1 })).toEqual({ code: 'unknown_type' });
    // Server-to-client types are not client messages.
    expect(failure({ t: 'welcome' })).toEqual({ code: 'unknown_type' });
    expect(failure({ t: 'frame' })).toEqual({ code: 'unknown_type' });
    const long = parse({ t: 'x'.repeat(10_000) });
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.reason.length).toBeLessThan(100);
  });
});

describe('parseClientMessage hello and ping fields', () => {
  it('hello needs an integer v', () => {
    for (const v of [undefined, '1', 1.5, null, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(failure({ t: 'hello', v }), String(v)).toEqual({ code: 'invalid_message' });
    }
  });

  it('ping needs a finite numeric id', () => {
    for (const id of [
      undefined,
      '1',
      null,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]) {
      expect(failure({ t: 'ping', id }), String(id)).toEqual({ code: 'invalid_message' });
    }
  });
});

describe('parseClientMessage seq', () => {
  for (const make of [input, spawn]) {
    const t = make({}).t;

    it(`${t}: accepts 0 and 2^32-1`, () => {
      expect(MAX_SEQ).toBe(4_294_967_295);
      const low = parse(make({ seq: 0 }));
      const high = parse(make({ seq: 2 ** 32 - 1 }));
      expect(low.ok && low.message).toMatchObject({ t, seq: 0 });
      expect(high.ok && high.message).toMatchObject({ t, seq: 4_294_967_295 });
    });

    it(`${t}: refuses -1 and 2^32 as out_of_range, not echoing a seq that is no uint32`, () => {
      expect(failure(make({ seq: -1 }))).toEqual({ code: 'out_of_range' });
      expect(failure(make({ seq: 2 ** 32 }))).toEqual({ code: 'out_of_range' });
      expect(failure(make({ seq: Number.MAX_SAFE_INTEGER }))).toEqual({ code: 'out_of_range' });
    });

    it(`${t}: refuses a missing or non-integer seq as invalid_message`, () => {
      for (const seq of [undefined, '7', 1.5, null, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(failure(make({ seq })), String(seq)).toEqual({ code: 'invalid_message' });
      }
    });
  }
});

describe('parseClientMessage coordinates', () => {
  for (const make of [input, spawn]) {
    const t = make({}).t;

    it(`${t}: 0 is inside the world, worldSize is not`, () => {
      const origin = parse(make({ x: 0, y: 0 }));
      expect(origin.ok && origin.message).toMatchObject({ x: 0, y: 0 });
      const edge = parse(make({ x: 999.999, y: 999.999 }));
      expect(edge.ok && edge.message).toMatchObject({ x: 999.999, y: 999.999 });
      expect(failure(make({ x: 1000 }))).toEqual({ code: 'out_of_range', seq: make({}).seq });
      expect(failure(make({ y: 1000 }))).toEqual({ code: 'out_of_range', seq: make({}).seq });
    });

    it(`${t}: negative, NaN and infinite coordinates are out_of_range with the seq echoed`, () => {
      const seq = make({}).seq;
      for (const bad of [
        -0.001,
        -1,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        1e9,
      ]) {
        expect(failure(make({ x: bad })), `x=${bad}`).toEqual({ code: 'out_of_range', seq });
        expect(failure(make({ y: bad })), `y=${bad}`).toEqual({ code: 'out_of_range', seq });
      }
    });

    it(`${t}: missing or non-numeric coordinates are invalid_message with the seq echoed`, () => {
      const seq = make({}).seq;
      for (const bad of [undefined, '10', null, [1]]) {
        expect(failure(make({ x: bad })), `x=${String(bad)}`).toEqual({
          code: 'invalid_message',
          seq,
        });
        expect(failure(make({ y: bad })), `y=${String(bad)}`).toEqual({
          code: 'invalid_message',
          seq,
        });
      }
    });

    it(`${t}: echoes seq 0 too`, () => {
      expect(failure(make({ seq: 0, x: -1 }))).toEqual({ code: 'out_of_range', seq: 0 });
    });
  }

  it('checks coordinates against the limits it is given', () => {
    const small = { worldSize: 400, maxSpawn: 500 };
    expect(parseClientMessage(input({ x: 399.5 }), small).ok).toBe(true);
    const result = parseClientMessage(input({ x: 400 }), small);
    expect(result).toMatchObject({ ok: false, code: 'out_of_range', seq: 7 });
  });
});

describe('parseClientMessage input mode', () => {
  it('refuses a missing or unknown mode as invalid_message with the seq echoed', () => {
    for (const mode of [undefined, 'push', 'ATTRACT', '', 1, null]) {
      expect(failure(input({ mode })), String(mode)).toEqual({ code: 'invalid_message', seq: 7 });
    }
  });
});

describe('parseClientMessage spawn count', () => {
  it('accepts 1..maxSpawn', () => {
    for (const count of [1, 2, 499, 500]) {
      const result = parse(spawn({ count }));
      expect(result.ok && result.message).toEqual({ t: 'spawn', seq: 9, x: 10, y: 20, count });
    }
  });

  it('refuses 0, negatives and maxSpawn+1 as out_of_range with the seq echoed', () => {
    for (const count of [0, -1, 501, 1_000_000]) {
      expect(failure(spawn({ count })), String(count)).toEqual({ code: 'out_of_range', seq: 9 });
    }
  });

  it('refuses a missing or non-integer count as invalid_message with the seq echoed', () => {
    for (const count of [undefined, '5', 1.5, null, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(failure(spawn({ count })), String(count)).toEqual({ code: 'invalid_message', seq: 9 });
    }
  });

  it('follows the maxSpawn it is given', () => {
    const tight = { worldSize: 1000, maxSpawn: 3 };
    expect(parseClientMessage(spawn({ count: 3 }), tight).ok).toBe(true);
    expect(parseClientMessage(spawn({ count: 4 }), tight)).toMatchObject({
      ok: false,
      code: 'out_of_range',
      seq: 9,
    });
  });
});

describe('envelope', () => {
  it('round-trips a frame message; data comes back as a Uint8Array with the same bytes', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff);
    const message: FrameMessage = {
      t: 'frame',
      tick: 123_456,
      kind: 'delta',
      base: 123_455,
      n: 75,
      ack: -1,
      sent: 1_796_000_000_000.25,
      data,
    };
    const bytes = encodeMessage(message);
    const decoded = decodeMessage(bytes);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    const value = decoded.value as FrameMessage;
    expect(Object.keys(value).sort()).toEqual([
      'ack',
      'base',
      'data',
      'kind',
      'n',
      'sent',
      't',
      'tick',
    ]);
    expect(value.t).toBe('frame');
    expect(value.tick).toBe(123_456);
    expect(value.kind).toBe('delta');
    expect(value.base).toBe(123_455);
    expect(value.n).toBe(75);
    expect(value.ack).toBe(-1);
    expect(value.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(value.data)).toEqual(Array.from(data));
  });

  it('carries data as one msgpack bin inside a plain map, not one number per byte', () => {
    const data = new Uint8Array(1000).fill(0xff);
    const bytes = encodeMessage({ t: 'frame', data });
    // A map header (fixmap, map16 or map32), never a msgpackr record extension.
    expect([0x80, 0xde, 0xdf]).toContain(bytes[0] >= 0x80 && bytes[0] <= 0x8f ? 0x80 : bytes[0]);
    // bin16 header (0xc5, length 1000 big-endian) directly before the raw bytes.
    const header = bytes.length - 1000 - 3;
    expect(Array.from(bytes.subarray(header, header + 3))).toEqual([0xc5, 0x03, 0xe8]);
    expect(bytes.length).toBeLessThan(1000 + 32);
  });

  it('encodes only the bytes of a Uint8Array view, not its whole buffer', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9, 9]);
    const view = backing.subarray(2, 5);
    const decoded = decodeMessage(encodeMessage({ t: 'frame', data: view }));
    expect(decoded.ok && Array.from((decoded.value as { data: Uint8Array }).data)).toEqual([
      1, 2, 3,
    ]);
  });

  it('an encoded message stays intact while many more are encoded', () => {
    const held = encodeMessage({ t: 'ping', id: 42 });
    const snapshot = Array.from(held);
    for (let i = 0; i < 2000; i++)
      encodeMessage({ t: 'frame', data: new Uint8Array(100).fill(i & 0xff) });
    expect(Array.from(held)).toEqual(snapshot);
    expect(decodeMessage(held)).toEqual({ ok: true, value: { t: 'ping', id: 42 } });
  });

  it('a client message survives the envelope and validation', () => {
    const decoded = decodeMessage(
      encodeMessage({ t: 'spawn', seq: MAX_SEQ, x: 0, y: 999.75, count: 500 }),
    );
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(parse(decoded.value)).toEqual({
      ok: true,
      message: { t: 'spawn', seq: MAX_SEQ, x: 0, y: 999.75, count: 500 },
    });
  });

  it('decodeMessage refuses empty, truncated and trailing-garbage bytes', () => {
    const whole = encodeMessage({ t: 'input', seq: 1, x: 2, y: 3, mode: 'repel' });
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array(0)],
      ['truncated by one', whole.subarray(0, whole.length - 1)],
      ['only the map header', whole.subarray(0, 1)],
      ['str8 shorter than its length', new Uint8Array([0xd9, 5, 0x61])],
      ['bin32 claiming 4 GiB', new Uint8Array([0xc6, 0xff, 0xff, 0xff, 0xff, 0x00])],
      ['map32 claiming 4G entries', new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff])],
      ['two messages in one', new Uint8Array([...whole, ...whole])],
      ['one stray byte after the map', new Uint8Array([...whole, 0x00])],
    ];
    for (const [label, bytes] of cases) {
      const result = decodeMessage(bytes);
      expect(result.ok, label).toBe(false);
      if (!result.ok) expect(result.reason, label).toMatch(/^undecodable msgpack: /);
    }
  });

  it('decodeMessage refuses the byte msgpack never uses (0xc1)', () => {
    expect(decodeMessage(new Uint8Array([0xc1])).ok).toBe(false);
    expect(decodeMessage(new Uint8Array([0x81, 0xa1, 0x74, 0xc1])).ok).toBe(false);
  });

  it('decodeMessage never throws on random bytes', () => {
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) >>> 24;
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: 1 + (i % 64) }, next);
      const result = decodeMessage(bytes);
      expect(typeof result.ok).toBe('boolean');
    }
  });
});
