/**
 * Msgpack written by hand, for the fuzzer and the attack tests. A value is a tree of nodes that
 * each name the exact wire format they are written in (int width, str/bin/
 * array/map/ext header size), so generated messages reach every format
 * family of the spec, non-canonical ones included (5 as a uint64, a short
 * string behind a str32 header), which no encoder library would produce.
 * Strings are written as WTF-8 so a lone surrogate reaches the wire as the
 * 3-byte sequence a careless client would send, not as U+FFFD.
 * `encodeNode` writes the bytes; `describeNode` prints a short, readable form
 * for counterexamples. No fast-check here: the arbitraries live next door.
 */

/** Integer formats and the range each can carry. */
export const INT_FORMATS = {
  posFixint: { tag: -1, bytes: 0, signed: false, min: 0n, max: 0x7fn },
  negFixint: { tag: -1, bytes: 0, signed: true, min: -32n, max: -1n },
  uint8: { tag: 0xcc, bytes: 1, signed: false, min: 0n, max: 0xffn },
  uint16: { tag: 0xcd, bytes: 2, signed: false, min: 0n, max: 0xffffn },
  uint32: { tag: 0xce, bytes: 4, signed: false, min: 0n, max: 0xffff_ffffn },
  uint64: { tag: 0xcf, bytes: 8, signed: false, min: 0n, max: 2n ** 64n - 1n },
  int8: { tag: 0xd0, bytes: 1, signed: true, min: -(2n ** 7n), max: 2n ** 7n - 1n },
  int16: { tag: 0xd1, bytes: 2, signed: true, min: -(2n ** 15n), max: 2n ** 15n - 1n },
  int32: { tag: 0xd2, bytes: 4, signed: true, min: -(2n ** 31n), max: 2n ** 31n - 1n },
  int64: { tag: 0xd3, bytes: 8, signed: true, min: -(2n ** 63n), max: 2n ** 63n - 1n },
} as const;
export type IntFormat = keyof typeof INT_FORMATS;

/**
 * Preferred size of a length header. A preference the length does not fit
 * (a fixstr of 40 bytes) is widened to the smallest header that fits, so
 * every node encodes to well-formed msgpack; malformed bytes come from
 * `raw` nodes and from mutations of whole messages.
 */
export type HeaderSize = 'fix' | '8' | '16' | '32';

export type MsgpackNode =
  | { type: 'nil' }
  | { type: 'bool'; value: boolean }
  /** 0xc1, the one byte msgpack never uses. */
  | { type: 'neverUsed' }
  | { type: 'int'; format: IntFormat; value: bigint }
  | { type: 'float32' | 'float64'; value: number }
  /** A string; `bytes` (if set) replaces the WTF-8 of `text`, e.g. with invalid UTF-8. */
  | { type: 'str'; header: HeaderSize; text: string; bytes?: Uint8Array }
  | { type: 'bin'; header: HeaderSize; bytes: Uint8Array }
  | { type: 'array'; header: HeaderSize; items: MsgpackNode[] }
  | { type: 'map'; header: HeaderSize; entries: Array<[MsgpackNode, MsgpackNode]> }
  | { type: 'ext'; header: HeaderSize; extType: number; data: Uint8Array }
  /** Bytes spliced in as they are: truncated headers, garbage, a second value. */
  | { type: 'raw'; bytes: Uint8Array };

// ── node factories (what message shapes are built from) ─────────────────
export const nil = (): MsgpackNode => ({ type: 'nil' });
export const str = (text: string, header: HeaderSize = 'fix'): MsgpackNode => ({
  type: 'str',
  header,
  text,
});
export const int = (value: number | bigint, format?: IntFormat): MsgpackNode => {
  const v = BigInt(value);
  return { type: 'int', format: format ?? smallestIntFormat(v), value: v };
};
export const float64 = (value: number): MsgpackNode => ({ type: 'float64', value });
export const map = (
  entries: Array<[MsgpackNode, MsgpackNode]>,
  header: HeaderSize = 'fix',
): MsgpackNode => ({ type: 'map', header, entries });
/** A map with string keys, in order. */
export const record = (fields: Record<string, MsgpackNode>): MsgpackNode =>
  map(Object.entries(fields).map(([k, v]) => [str(k), v]));

/** A JS number as the node a plain encoder would write (int if integral and in range). */
export function numberNode(value: number): MsgpackNode {
  if (Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER) return int(value);
  return float64(value);
}

export function smallestIntFormat(v: bigint): IntFormat {
  const order: IntFormat[] = ['posFixint', 'negFixint', 'uint8', 'int8', 'uint16', 'int16'];
  order.push('uint32', 'int32', 'uint64', 'int64');
  const format = order.find((f) => v >= INT_FORMATS[f].min && v <= INT_FORMATS[f].max);
  if (!format) throw new RangeError(`${v} does not fit any msgpack integer`);
  return format;
}

// ── encoding ─────────────────────────────────────────────────────────────
/** The wire bytes of a sequence of nodes, concatenated. */
export function encodeNodes(...nodes: MsgpackNode[]): Uint8Array {
  const out: number[] = [];
  for (const node of nodes) write(node, out);
  return Uint8Array.from(out);
}

export const encodeNode = (node: MsgpackNode): Uint8Array => encodeNodes(node);

function write(node: MsgpackNode, out: number[]): void {
  switch (node.type) {
    case 'nil':
      return void out.push(0xc0);
    case 'bool':
      return void out.push(node.value ? 0xc3 : 0xc2);
    case 'neverUsed':
      return void out.push(0xc1);
    case 'int':
      return writeInt(node.format, node.value, out);
    case 'float32':
    case 'float64': {
      const wide = node.type === 'float64';
      const view = new DataView(new ArrayBuffer(wide ? 8 : 4));
      if (wide) view.setFloat64(0, node.value);
      else view.setFloat32(0, node.value);
      out.push(wide ? 0xcb : 0xca, ...new Uint8Array(view.buffer));
      return;
    }
    case 'str': {
      const bytes = node.bytes ?? wtf8(node.text);
      writeHeader(out, bytes.length, node.header, { fix: [0xa0, 31], 8: 0xd9, 16: 0xda, 32: 0xdb });
      return pushAll(out, bytes);
    }
    case 'bin':
      writeHeader(out, node.bytes.length, node.header, { 8: 0xc4, 16: 0xc5, 32: 0xc6 });
      return pushAll(out, node.bytes);
    case 'array':
      writeHeader(out, node.items.length, node.header, { fix: [0x90, 15], 16: 0xdc, 32: 0xdd });
      for (const item of node.items) write(item, out);
      return;
    case 'map':
      writeHeader(out, node.entries.length, node.header, { fix: [0x80, 15], 16: 0xde, 32: 0xdf });
      for (const [key, value] of node.entries) {
        write(key, out);
        write(value, out);
      }
      return;
    case 'ext':
      return writeExt(node.header, node.extType, node.data, out);
    case 'raw':
      return pushAll(out, node.bytes);
  }
}

function writeInt(format: IntFormat, value: bigint, out: number[]): void {
  const spec = INT_FORMATS[format];
  if (value < spec.min || value > spec.max) throw new RangeError(`${value} is not a ${format}`);
  if (format === 'posFixint') return void out.push(Number(value));
  if (format === 'negFixint') return void out.push(Number(value) & 0xff);
  out.push(spec.tag);
  // Two's complement over the width, big-endian.
  const bits = BigInt(spec.bytes * 8);
  const unsigned = value < 0n ? (1n << bits) + value : value;
  for (let i = spec.bytes - 1; i >= 0; i--) out.push(Number((unsigned >> BigInt(i * 8)) & 0xffn));
}

type HeaderTags = { fix?: [number, number]; 8?: number; 16: number; 32: number };

function writeHeader(out: number[], length: number, size: HeaderSize, tags: HeaderTags): void {
  const fits: Record<HeaderSize, boolean> = {
    fix: tags.fix !== undefined && length <= tags.fix[1],
    8: tags[8] !== undefined && length <= 0xff,
    16: length <= 0xffff,
    32: true,
  };
  const order: HeaderSize[] = ['fix', '8', '16', '32'];
  const chosen = order.slice(order.indexOf(size)).find((s) => fits[s]) ?? '32';
  if (chosen === 'fix') out.push(tags.fix![0] | length);
  else if (chosen === '8') out.push(tags[8]!, length);
  else if (chosen === '16') out.push(tags[16], length >>> 8, length & 0xff);
  else
    out.push(tags[32], length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
}

const FIXEXT_TAGS: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };

function writeExt(size: HeaderSize, extType: number, data: Uint8Array, out: number[]): void {
  const n = data.length;
  if (size === 'fix' && FIXEXT_TAGS[n] !== undefined) out.push(FIXEXT_TAGS[n]);
  else writeHeader(out, n, size === 'fix' ? '8' : size, { 8: 0xc7, 16: 0xc8, 32: 0xc9 });
  out.push(extType & 0xff);
  pushAll(out, data);
}

function pushAll(out: number[], bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i]);
}

/** UTF-8, except that a lone surrogate is written as its own 3-byte sequence (WTF-8). */
export function wtf8(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
      i++;
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else
      out.push(
        0xf0 | (c >> 18),
        0x80 | ((c >> 12) & 0x3f),
        0x80 | ((c >> 6) & 0x3f),
        0x80 | (c & 0x3f),
      );
  }
  return Uint8Array.from(out);
}

// ── description ──────────────────────────────────────────────────────────
const INT_NAMES: Record<IntFormat, string> = {
  posFixint: 'pfix',
  negFixint: 'nfix',
  uint8: 'u8',
  uint16: 'u16',
  uint32: 'u32',
  uint64: 'u64',
  int8: 'i8',
  int16: 'i16',
  int32: 'i32',
  int64: 'i64',
};

/** Short readable form: `map{"t":str8("€€…"/40), "seq":u64(5)}`. Long parts are elided with their size. */
export function describeNode(node: MsgpackNode, budget = 160): string {
  const text = describe(node);
  return text.length <= budget ? text : `${text.slice(0, budget)}…`;
}

function describe(node: MsgpackNode): string {
  switch (node.type) {
    case 'nil':
      return 'nil';
    case 'bool':
      return String(node.value);
    case 'neverUsed':
      return 'c1';
    case 'int':
      return `${INT_NAMES[node.format]}(${node.value})`;
    case 'float32':
      return `f32(${Object.is(node.value, -0) ? '-0' : node.value})`;
    case 'float64':
      return `f64(${Object.is(node.value, -0) ? '-0' : node.value})`;
    case 'str': {
      const shown = node.bytes ? `bytes:${hex(node.bytes, 24)}` : quote(node.text);
      return `str${node.header === 'fix' ? '' : node.header}(${shown})`;
    }
    case 'bin':
      return `bin${node.header}[${hex(node.bytes, 16)}]`;
    case 'array':
      return `arr${node.header === 'fix' ? '' : node.header}[${node.items.map(describe).join(', ')}]`;
    case 'map':
      return `map${node.header === 'fix' ? '' : node.header}{${node.entries.map(([k, v]) => `${describe(k)}: ${describe(v)}`).join(', ')}}`;
    case 'ext':
      return `ext${node.header}(${node.extType}, ${hex(node.data, 16)})`;
    case 'raw':
      return `raw<${hex(node.bytes, 24)}>`;
  }
}

/** A string as JSON (lone surrogates escaped by JSON itself), elided past 40 characters. */
export function quote(text: string): string {
  if (text.length <= 40) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, 40))}…/${text.length}`;
}

/** Hex of up to `max` bytes, then the total length. */
export function hex(bytes: Uint8Array, max = 32): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0'));
  return bytes.length <= max ? shown.join(' ') : `${shown.join(' ')} …(${bytes.length} B)`;
}
