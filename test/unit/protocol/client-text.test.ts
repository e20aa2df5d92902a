import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  closeReason,
  MAX_CLOSE_REASON_BYTES,
  MAX_QUOTED_CHARS,
  quoteClientText,
} from '../../../protocol/client-text.js';

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

describe('closeReason', () => {
  it('keeps a reason that fits', () => {
    expect(closeReason('lobby closed')).toBe('lobby closed');
    const exact = 'é'.repeat(61) + 'a'; // 123 bytes
    expect(closeReason(exact)).toBe(exact);
  });

  it('cuts at 123 bytes on a character boundary, never halving a pair', () => {
    expect(closeReason('€'.repeat(60))).toBe('€'.repeat(41)); // 3 bytes each
    expect(closeReason('🦀'.repeat(40))).toBe('🦀'.repeat(30)); // 4 bytes, 2 UTF-16 units
    expect(closeReason(`${'a'.repeat(122)}🦀`)).toBe('a'.repeat(122));
  });

  it('always fits a close frame, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const reason = closeReason(text);
        expect(utf8(reason)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
        expect(text.startsWith(reason)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('quoteClientText', () => {
  it('keeps printable ASCII and escapes the rest', () => {
    expect(quoteClientText('dance')).toBe('dance');
    expect(quoteClientText('a\\b')).toBe('a\\u005cb');
    expect(quoteClientText('\u202e\n')).toBe('\\u202e\\u000a');
    expect(quoteClientText('🦀')).toBe('\\ud83e\\udd80');
  });

  it('bounds its output, escapes included, with an ellipsis when cut', () => {
    expect(quoteClientText('x'.repeat(100))).toBe(`${'x'.repeat(MAX_QUOTED_CHARS)}...`);
    expect(quoteClientText('€'.repeat(100))).toBe(`${'\\u20ac'.repeat(5)}...`);
  });

  it('returns plain printable ASCII of bounded length, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const quoted = quoteClientText(text);
        expect(quoted).toMatch(/^[\x20-\x7e]*$/);
        expect(quoted.length).toBeLessThanOrEqual(MAX_QUOTED_CHARS + 3);
      }),
      { numRuns: 2000 },
    );
  });
});
