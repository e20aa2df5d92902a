/** Validation of the `view` message: all four fields or none, numbers, in range. */
import { describe, expect, it } from 'vitest';
import { parseClientMessage } from '../../../protocol/messages.js';

const limits = { worldSize: 1000, maxSpawn: 500 };
const parse = (value: unknown) => parseClientMessage(value, limits);
const codeOf = (value: unknown) => {
  const parsed = parse(value);
  return parsed.ok ? 'ok' : parsed.code;
};

describe('view message', () => {
  it('takes a rectangle, or nothing (the whole world; nil counts as absent)', () => {
    expect(parse({ t: 'view', x: 0, y: 999.9, w: 1000, h: 0.001 })).toEqual({
      ok: true,
      message: { t: 'view', x: 0, y: 999.9, w: 1000, h: 0.001 },
    });
    expect(parse({ t: 'view' })).toEqual({ ok: true, message: { t: 'view' } });
    expect(parse({ t: 'view', x: null, y: null, w: null, h: null })).toEqual({
      ok: true,
      message: { t: 'view' },
    });
  });

  it('refuses partial and wrongly typed fields as invalid_message', () => {
    for (const bad of [
      { x: 1 },
      { x: 1, y: 1, w: 1 },
      { x: 1, y: 1, w: 1, h: null },
      { x: '1', y: 1, w: 1, h: 1 },
      { x: 1, y: 1, w: 1n, h: 1 },
      { x: 1, y: 1, w: [1], h: 1 },
      { x: 1, y: 1, w: 1, h: 'ten 🐝' },
    ]) {
      expect(codeOf({ t: 'view', ...bad })).toBe('invalid_message');
    }
  });

  it('refuses numbers out of range as out_of_range', () => {
    for (const bad of [
      { x: -0.001 },
      { x: 1000 },
      { y: Number.NaN },
      { y: Number.POSITIVE_INFINITY },
      { w: 0 },
      { w: -1 },
      { w: 1000.0001 },
      { h: Number.NaN },
      { h: Number.NEGATIVE_INFINITY },
      { x: 2 ** 53 },
      { y: -(2 ** 63) },
    ]) {
      expect(codeOf({ t: 'view', x: 1, y: 1, w: 10, h: 10, ...bad })).toBe('out_of_range');
    }
  });
});
