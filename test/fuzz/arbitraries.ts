/**
 * fast-check arbitraries for hostile client input, the one module the
 * protocol property test, the socket fuzz test and `npm run fuzz` import:
 * message payloads (known types with wrong fields, unknown types, valid
 * messages, trailing bytes, truncations, deep nesting, sizes around the
 * limit, raw bytes), built from the hostile values of hostile-values.ts,
 * which it re-exports. The socket-level steps and cases are in fuzz-case.ts.
 */
import fc from 'fast-check';
import { INPUT_MODES, MAX_SEQ, SEND_RATES, STATS_FIELDS } from '../../protocol/messages.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import {
  anyFloat,
  anyInt,
  anyNode,
  anyStr,
  hostileChar,
  hostileString,
  mapKey,
} from './hostile-values.js';
import {
  describeNode,
  encodeNode,
  encodeNodes,
  float64,
  hex,
  int,
  map,
  type MsgpackNode,
  numberNode,
  record,
  str,
  wtf8,
} from '../support/msgpack-bytes.js';

export * from './hostile-values.js';

/** The server limits the generators aim at (values just inside and just outside). */
export interface FuzzLimits {
  maxMessageBytes: number;
  worldSize: number;
  maxSpawn: number;
}

// ── message payloads (the bytes of one binary message) ──────────────────
/** One message's bytes and a short account of how they were built. */
export interface Payload {
  bytes: Uint8Array;
  /** Computed on first read: most generated payloads are never printed. */
  readonly note: string;
}

/** A payload that prints as its note and bytes in counterexamples. */
export function makePayload(bytes: Uint8Array, note: string | (() => string)): Payload {
  let text = typeof note === 'string' ? note : undefined;
  const describe = () => (text ??= (note as () => string)());
  return {
    bytes,
    get note() {
      return describe();
    },
    [fc.toStringMethod]: () => `${describe()} (${bytes.length} B: ${hex(bytes, 128)})`,
  } as Payload;
}

const payload = (note: string | (() => string), ...nodes: MsgpackNode[]): Payload =>
  makePayload(
    encodeNodes(...nodes),
    () =>
      `${typeof note === 'string' ? note : note()}: ${nodes.map((n) => describeNode(n)).join(' + ')}`,
  );

const KNOWN_FIELDS = {
  hello: ['v'],
  ping: ['id'],
  input: ['seq', 'x', 'y', 'mode'],
  spawn: ['seq', 'x', 'y', 'count'],
  stats: ['fps', 'received', 'skipped', 'decodeMs', 'rttMs', 'bufferMs', 'latencyMs'],
  view: ['x', 'y', 'w', 'h'],
} as const;
export type KnownType = keyof typeof KNOWN_FIELDS;

/** A value that is right for `field`, or just outside its range. */
function fieldValue(field: string, limits: FuzzLimits): fc.Arbitrary<MsgpackNode> {
  const w = limits.worldSize;
  switch (field) {
    case 'v':
      return fc.constantFrom(PROTOCOL_VERSION, 0, PROTOCOL_VERSION + 1, -1).map((v) => int(v));
    case 'id':
      return fc
        .oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
        .map(numberNode);
    case 'seq':
      return fc.oneof(
        fc.integer({ min: 0, max: MAX_SEQ }).map((v) => int(v)),
        fc.constantFrom(MAX_SEQ + 1, -1, 0.5, 2 ** 53).map(numberNode),
      );
    case 'x':
    case 'y':
      return fc.oneof(
        fc.double({ min: 0, max: w, maxExcluded: true, noNaN: true }).map(numberNode),
        fc.constantFrom(w, -Number.EPSILON, w - 1e-9, 0).map(numberNode),
      );
    case 'w':
    case 'h':
      return fc.oneof(
        fc.double({ min: 1e-6, max: w, noNaN: true }).map(numberNode),
        fc.constantFrom(0, w, w + 1e-9, -1, Number.NaN, Number.POSITIVE_INFINITY).map(numberNode),
        fc.integer({ min: -(2 ** 31), max: 2 ** 32 }).map((v) => int(v)),
      );
    case 'mode':
      return fc.oneof(
        fc.constantFrom(...INPUT_MODES, 'ATTRACT', '').map((m) => str(m)),
        anyStr,
      );
    case 'count':
      return fc.oneof(
        fc.integer({ min: 1, max: Math.min(8, limits.maxSpawn) }).map((v) => int(v)),
        fc.constantFrom(0, limits.maxSpawn, limits.maxSpawn + 1, 1.5).map(numberNode),
      );
    default:
      if (field in STATS_FIELDS)
        return statsFieldValue(STATS_FIELDS[field as keyof typeof STATS_FIELDS]);
      return anyNode;
  }
}

/** A stats field's value: inside its range, at its edges, just outside, or any number at all. */
export function statsFieldValue(field: {
  max: number;
  integer: boolean;
}): fc.Arbitrary<MsgpackNode> {
  const inRange = field.integer
    ? fc.integer({ min: 0, max: field.max }).map((v) => int(v))
    : fc.double({ min: 0, max: field.max, noNaN: true }).map(numberNode);
  return fc.oneof(
    { weight: 4, arbitrary: inRange },
    {
      weight: 2,
      arbitrary: fc.constantFrom(0, field.max, field.max + 1, -1, 0.5, 2 ** 53, -0).map(numberNode),
    },
    { weight: 2, arbitrary: anyInt },
    { weight: 2, arbitrary: anyFloat },
    { weight: 1, arbitrary: fc.constant<MsgpackNode>({ type: 'nil' }) },
  );
}

/** A known type whose fields are each right, wrong-typed, out of range or missing, plus extras. */
function knownTypeMessage(limits: FuzzLimits): fc.Arbitrary<Payload> {
  return fc
    .constantFrom(...(Object.keys(KNOWN_FIELDS) as KnownType[]))
    .chain((t) => fuzzedFields(t, limits));
}

/** Messages of type `t` whose fields are each right, wrong-typed, out of range or missing, plus extras. */
export function fuzzedFields(t: KnownType, limits: FuzzLimits): fc.Arbitrary<Payload> {
  return fc
    .tuple(
      fc.tuple(
        ...KNOWN_FIELDS[t].map((field) =>
          fc.oneof(
            { weight: 4, arbitrary: fieldValue(field, limits) },
            { weight: 2, arbitrary: anyNode },
            { weight: 1, arbitrary: fc.constant(undefined) },
          ),
        ),
      ),
      fc.array(fc.tuple(mapKey, anyNode), { maxLength: 2 }),
    )
    .map(([values, extra]) => {
      const entries: Array<[MsgpackNode, MsgpackNode]> = [[str('t'), str(t)]];
      KNOWN_FIELDS[t].forEach((field, i) => {
        if (values[i] !== undefined) entries.push([str(field), values[i]]);
      });
      const node = map([...entries, ...extra]);
      return payload(`${t} with fuzzed fields`, node);
    });
}

/** Well-formed messages of every type, so joined sessions do real work. */
export function validMessage(limits: FuzzLimits): fc.Arbitrary<Payload> {
  const coord = fc.double({ min: 0, max: limits.worldSize, maxExcluded: true, noNaN: true });
  const seq = fc.integer({ min: 0, max: MAX_SEQ });
  return fc.oneof(
    fc.constant(helloPayload()),
    fc
      .integer({ min: 0, max: 2 ** 31 })
      .map((id) => payload('ping', record({ t: str('ping'), id: int(id) }))),
    fc
      .tuple(seq, coord, coord, fc.constantFrom(...INPUT_MODES))
      .map(([s, x, y, mode]) =>
        payload(
          'input',
          record({ t: str('input'), seq: int(s), x: float64(x), y: float64(y), mode: str(mode) }),
        ),
      ),
    fc
      .tuple(seq, coord, coord, fc.integer({ min: 1, max: Math.min(5, limits.maxSpawn) }))
      .map(([s, x, y, count]) =>
        payload(
          'spawn',
          record({ t: str('spawn'), seq: int(s), x: float64(x), y: float64(y), count: int(count) }),
        ),
      ),
    // Views (the view path: tile chunks, held tiles) and back to the whole world.
    fc
      .option(fc.tuple(coord, coord, fc.double({ min: 1, max: limits.worldSize, noNaN: true })), {
        freq: 4,
      })
      .map((rect) =>
        rect
          ? payload(
              'view',
              record({
                t: str('view'),
                x: float64(rect[0]),
                y: float64(rect[1]),
                w: float64(rect[2]),
                h: float64(rect[2]),
              }),
            )
          : payload('view (whole world)', record({ t: str('view') })),
      ),
    // Valid rates and near misses (every msgpack width of an integer, and floats).
    fc
      .oneof(fc.constantFrom(...SEND_RATES), fc.integer({ min: -(2 ** 31), max: 2 ** 32 }))
      .map((hz) => payload('rate', record({ t: str('rate'), hz: int(hz) }))),
    fc
      .tuple(
        fc.double({ min: 0, max: 240, noNaN: true }),
        fc.nat({ max: 1000 }),
        fc.nat({ max: 100 }),
        fc.double({ min: 0, max: 50, noNaN: true }),
      )
      .map(([fps, received, skipped, decodeMs]) =>
        payload(
          'stats',
          record({
            t: str('stats'),
            fps: float64(fps),
            received: int(received),
            skipped: int(skipped),
            decodeMs: float64(decodeMs),
          }),
        ),
      ),
  );
}

export const helloPayload = (v = PROTOCOL_VERSION): Payload =>
  payload(`hello v${v}`, record({ t: str('hello'), v: int(v) }));

/** Messages whose `t` is any string at all. */
const typedMessage: fc.Arbitrary<Payload> = fc
  .tuple(anyStr, fc.array(fc.tuple(mapKey, anyNode), { maxLength: 3 }))
  .map(([t, extra]) => payload('map with fuzzed t', map([[str('t'), t], ...extra])));

/** A value followed by more bytes: msgpackr quotes the value it read in its error. */
const trailingBytes: fc.Arbitrary<Payload> = fc
  .tuple(
    fc.oneof(
      anyNode,
      typedMessage.map((p) => ({ type: 'raw', bytes: p.bytes }) as MsgpackNode),
    ),
    fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 8 }), anyNode.map(encodeNode)),
  )
  .map(([node, tail]) => payload('value + trailing bytes', node, { type: 'raw', bytes: tail }));

/** An encoded value cut short, or with one byte changed. */
const mutated: fc.Arbitrary<Payload> = fc
  .tuple(anyNode, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean())
  .map(([node, at, xor, truncate]) => {
    const bytes = encodeNode(node);
    const i = bytes.length === 0 ? 0 : at % bytes.length;
    if (truncate)
      return makePayload(bytes.slice(0, i), () => `${describeNode(node, 80)} truncated at ${i}`);
    const flipped = Uint8Array.from(bytes);
    flipped[i] ^= xor;
    return makePayload(flipped, () => `${describeNode(node, 80)} with byte ${i} ^= ${xor}`);
  });

/** Arrays or maps nested up to the size limit: a classic recursion attack on parsers. */
function deepNesting(limits: FuzzLimits): fc.Arbitrary<Payload> {
  return fc
    .tuple(fc.integer({ min: 1, max: limits.maxMessageBytes - 1 }), fc.boolean())
    .map(([depth, maps]) => {
      const open = maps ? [0x81, 0xa1, 0x74] : [0x91];
      const levels = Math.max(1, Math.floor((depth - 1) / open.length));
      const bytes = new Uint8Array(levels * open.length + 1);
      for (let i = 0; i < levels; i++) bytes.set(open, i * open.length);
      bytes[bytes.length - 1] = 0xc0;
      return makePayload(bytes, () => `${levels} nested ${maps ? 'maps' : 'arrays'}`);
    });
}

/** A message padded to a size around the limit (just under, at, just over). */
function nearMaxSize(limits: FuzzLimits): fc.Arbitrary<Payload> {
  const max = limits.maxMessageBytes;
  return fc
    .tuple(
      fc.integer({ min: max - 64, max: max + 64 }),
      fc.oneof(fc.constantFrom('input', 'ping', 'hello'), hostileString),
      hostileChar,
    )
    .map(([target, t, c]) => {
      const base = encodeNodes(record({ t: str(t), pad: str('') })).length;
      const unit = wtf8(c).length || 1;
      const pad = c.repeat(Math.max(0, Math.floor((target - base - 5) / unit)));
      return payload(
        () => `~${target} B, t ${JSON.stringify(t.slice(0, 12))}, pad ${JSON.stringify(c)}`,
        record({ t: str(t), pad: str(pad) }),
      );
    });
}

/** Bigger than the limit: ws itself closes with 1009. */
function oversized(limits: FuzzLimits): fc.Arbitrary<Payload> {
  const max = limits.maxMessageBytes;
  return fc
    .tuple(
      fc.integer({ min: max + 1, max: 2 * max }),
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
    )
    .map(([n, pattern]) => {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = pattern[i % pattern.length];
      return makePayload(bytes, () => `${n} B oversized`);
    });
}

/** The bytes of one binary message, from every family above. */
export function binaryPayload(limits: FuzzLimits): fc.Arbitrary<Payload> {
  return fc.oneof(
    { weight: 4, arbitrary: validMessage(limits) },
    { weight: 5, arbitrary: knownTypeMessage(limits) },
    { weight: 5, arbitrary: typedMessage },
    { weight: 3, arbitrary: anyNode.map((n) => payload('any value', n)) },
    { weight: 3, arbitrary: trailingBytes },
    { weight: 2, arbitrary: mutated },
    {
      weight: 2,
      arbitrary: fc
        .uint8Array({ maxLength: 64 })
        .map((bytes) => makePayload(bytes, 'random bytes')),
    },
    { weight: 1, arbitrary: deepNesting(limits) },
    { weight: 1, arbitrary: nearMaxSize(limits) },
    { weight: 1, arbitrary: oversized(limits) },
  );
}
