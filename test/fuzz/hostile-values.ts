/**
 * fast-check arbitraries for hostile values, the building blocks of
 * arbitraries.ts: strings that are hard on byte budgets, escaping and
 * slicing; integers of every msgpack width (the width chosen first, then a
 * value that fits it, biased to its edges); floats with their special
 * values; msgpack trees of every format family, msgpackr's extensions
 * included. Import them through arbitraries.ts.
 */
import fc from 'fast-check';
import {
  encodeNode,
  float64,
  type HeaderSize,
  INT_FORMATS,
  type IntFormat,
  map,
  type MsgpackNode,
  str,
  wtf8,
} from '../support/msgpack-bytes.js';

// ── hostile text ─────────────────────────────────────────────────────────
const codePoint = (min: number, max: number) =>
  fc.integer({ min, max }).map((c) => String.fromCodePoint(c));

/** Single characters from the classes that break byte budgets, escaping and slicing. */
export const hostileChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: codePoint(0x20, 0x7e) },
  { weight: 1, arbitrary: fc.oneof(codePoint(0x00, 0x1f), codePoint(0x7f, 0x9f)) },
  { weight: 2, arbitrary: codePoint(0xa0, 0x7ff) },
  { weight: 3, arbitrary: codePoint(0x800, 0xd7ff) },
  { weight: 1, arbitrary: codePoint(0xe000, 0xffff) },
  { weight: 2, arbitrary: codePoint(0x10000, 0x10ffff) },
  // Lone surrogates: not well-formed UTF-16; WTF-8 on the wire.
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '€',
      '中',
      '\u{1F600}',
      '\u{1F469}\u200D\u{1F469}\u200D\u{1F467}',
      '\u{1F3F3}\uFE0F\u200D\u{1F308}',
      'e\u0301',
      '\u0301',
      'Z\u0335\u0321\u0322\u0327\u0328\u0334\u0337\u0338',
      '\u202E',
      '\u200F',
      '\u2066',
      '\uFEFF',
      '\uFFFD',
      '\uFFFF',
      '\0',
      "'",
      '"',
      '\\',
      '${',
      '%s',
      '\r\n',
      '<script>',
    ),
  },
);

/**
 * A hostile string: mixed characters, one character repeated (what fills a
 * byte budget fastest), or what fast-check's own units give. Up to a few
 * hundred UTF-16 units: well past any 123-byte budget.
 */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: hostileChar, maxLength: 48 }) },
  {
    weight: 3,
    arbitrary: fc.tuple(hostileChar, fc.integer({ min: 1, max: 200 })).map(([c, n]) => c.repeat(n)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 8 }), hostileChar, fc.integer({ min: 1, max: 120 }))
      .map(([prefix, c, n]) => prefix + c.repeat(n)),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 64 }) },
);

/** Bytes that are not UTF-8: stray continuations, overlongs, surrogates, truncated sequences. */
export const invalidUtf8: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.string({ maxLength: 6 }),
    fc.constantFrom(
      [0xff],
      [0x80],
      [0xc0, 0x80],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
      [0xf0, 0x9f, 0x98],
    ),
    fc.string({ maxLength: 6 }),
  )
  .map(([a, bad, b]) => Uint8Array.from([...wtf8(a), ...bad, ...wtf8(b)]));

// ── msgpack scalars ──────────────────────────────────────────────────────
const INT_FORMAT_NAMES = Object.keys(INT_FORMATS) as IntFormat[];

/** An integer in exactly the given format, biased to the edges of its range. */
export const intIn = (format: IntFormat): fc.Arbitrary<MsgpackNode> => {
  const { min, max } = INT_FORMATS[format];
  const edges = [min, max, min + 1n, max - 1n, 0n, 1n, -1n].filter((v) => v >= min && v <= max);
  return fc
    .oneof(fc.constantFrom(...edges), fc.bigInt({ min, max }))
    .map((value): MsgpackNode => ({ type: 'int', format, value }));
};

/** Integers of every msgpack width: positive/negative fixint, uint8..uint64, int8..int64. */
export const anyInt: fc.Arbitrary<MsgpackNode> = fc.oneof(...INT_FORMAT_NAMES.map(intIn));

const SPECIAL_FLOATS = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  Number.MIN_VALUE,
  Number.MAX_VALUE,
  Number.EPSILON,
  2 ** 53,
  2 ** 64,
  -(2 ** 63),
];

export const anyFloat: fc.Arbitrary<MsgpackNode> = fc.oneof(
  fc.constantFrom(...SPECIAL_FLOATS).map(float64),
  fc.double().map(float64),
  fc.float().map((value): MsgpackNode => ({ type: 'float32', value })),
);

const header: fc.Arbitrary<HeaderSize> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('fix' as const) },
  { weight: 1, arbitrary: fc.constantFrom('8' as const, '16' as const, '32' as const) },
);

export const anyStr: fc.Arbitrary<MsgpackNode> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(hostileString, header).map(([text, h]) => str(text, h)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(invalidUtf8, header)
      .map(([bytes, h]): MsgpackNode => ({ type: 'str', header: h, text: '', bytes })),
  },
);

const anyBin: fc.Arbitrary<MsgpackNode> = fc
  .tuple(fc.uint8Array({ maxLength: 32 }), header)
  .map(([bytes, h]): MsgpackNode => ({ type: 'bin', header: h, bytes }));

/** Extension types msgpackr gives meaning to (BigInt, Error, ids, sets, typed arrays, RegExp, bundles, timestamp...). */
const MSGPACKR_EXT_TYPES = [0, 0x42, 0x62, 0x65, 0x69, 0x70, 0x72, 0x73, 0x74, 0x78, 0xff];

const anyScalar: fc.Arbitrary<MsgpackNode> = fc.oneof(
  { weight: 3, arbitrary: anyInt },
  { weight: 2, arbitrary: anyFloat },
  { weight: 3, arbitrary: anyStr },
  { weight: 1, arbitrary: anyBin },
  {
    weight: 1,
    arbitrary: fc.constantFrom<MsgpackNode>(
      { type: 'nil' },
      { type: 'bool', value: true },
      { type: 'bool', value: false },
      { type: 'neverUsed' },
    ),
  },
);

/** Keys a server might look at, and keys that are hostile to plain objects. */
const interestingKey = fc.constantFrom(
  't',
  'v',
  'id',
  'seq',
  'x',
  'y',
  'mode',
  'count',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
);

export const mapKey: fc.Arbitrary<MsgpackNode> = fc.oneof(
  { weight: 4, arbitrary: interestingKey.map((k) => str(k)) },
  { weight: 2, arbitrary: anyStr },
  { weight: 1, arbitrary: anyScalar },
);

/**
 * msgpackr's structured-clone references: level i is [ref(i-1), ref(i-1)],
 * so a few hundred bytes name an exponentially large value (a review found
 * that it froze the server; the decoder now refuses these extensions).
 */
const referenceChain: fc.Arbitrary<MsgpackNode> = fc
  .integer({ min: 2, max: 40 })
  .map((levels): MsgpackNode => {
    const id = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
    const bytes = [0xdc, 0, levels, 0xd6, 0x69, ...id(0), 0xa1, 0x78];
    for (let i = 1; i < levels; i++)
      bytes.push(0xd6, 0x69, ...id(i), 0x92, 0xd6, 0x70, ...id(i - 1), 0xd6, 0x70, ...id(i - 1));
    return { type: 'raw', bytes: Uint8Array.from(bytes) };
  });

/** Any msgpack value: scalars, arrays, maps and extensions, nested a few levels. */
export const anyNode: fc.Arbitrary<MsgpackNode> = fc.letrec<{ node: MsgpackNode }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'msgpack' },
    { weight: 5, arbitrary: anyScalar },
    { weight: 1, arbitrary: referenceChain },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.array(tie('node'), { maxLength: 4 }), header)
        .map(([items, h]): MsgpackNode => ({ type: 'array', header: h, items })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.array(fc.tuple(mapKey, tie('node')), { maxLength: 4 }), header)
        .map(([entries, h]) => map(entries, h)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.oneof(fc.constantFrom(...MSGPACKR_EXT_TYPES), fc.integer({ min: 0, max: 255 })),
          fc.oneof(
            fc.uint8Array({ maxLength: 20 }),
            tie('node').map((n) => encodeNode(n)),
          ),
          header,
        )
        .map(([extType, data, h]): MsgpackNode => ({ type: 'ext', header: h, extType, data })),
    },
  ),
})).node;
