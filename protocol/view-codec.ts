/**
 * View frame codec: the byte layout of a `view` frame's `data` (the tiles a
 * client subscribed to, docs/PROTOCOL.md "View frames"), the per-tile chunk
 * encoders the server runs once per (tile, base, tick), and the stateless
 * per-tile decoders ViewDecoder (view-decoder.ts) calls.
 *
 * The per-tile *position* coding is here and only here: `gather` a tile's
 * members, then the frame codec's encodeKeyframe / encodeDelta on that
 * subset, and on the way back `readSubsetKey` / `readSubsetDelta`. A new
 * position coder replaces those four places (see "Position coding" below).
 * Isomorphic: no node: modules, no Buffer.
 *
 * ── Byte layout ───────────────────────────────────────────────────────────
 * varint = unsigned LEB128, at most 5 bytes, value < 2^32.
 *   u8 g          grid bits: tiles are 2^g × 2^g (view-grid.ts), g <= min(bits, 8)
 *   varint c      chunks that follow, one per tile present, ascending tile id
 *   c × chunk:
 *     varint h    (gap << 1) | kind: gap = tile − previous tile − 1 (previous
 *                 is −1 for the first chunk); kind 0 = key, 1 = delta
 *     key body:   varint k; k varint index gaps (first the index, then index −
 *                 previous − 1); then the k members' positions (v1: a keyframe
 *                 of the subset, u16 x, u16 y each, ascending index)
 *     delta body: against the tile's members at `base`, ascending (m of them):
 *                 varint l; l varint rank gaps (ranks in the base members that
 *                 left the tile, coded as the index gaps are);
 *                 varint e; e varint index gaps (particles that entered);
 *                 then the positions (v1: a delta whose base is the s = m − l
 *                 stayed members' base positions and whose frame is the same
 *                 s then the e entered, ascending each, so section 2 of the
 *                 delta carries the entered raw)
 * Nothing follows the last chunk. A tile with no members at `tick` is left
 * out (a client holding it drops it: it holds nothing there).
 */
import { DELTA_BLOCK, encodeDelta, encodeKeyframe, RAW_PARTICLE_BYTES } from './frame-codec.js';
import type { TileIndex } from './view-grid.js';

export const VIEW_CHUNK = { key: 0, delta: 1 } as const;
export type ViewChunkKind = (typeof VIEW_CHUNK)[keyof typeof VIEW_CHUNK];

/** Why view data was refused: one table, values stable for logs. */
export const ViewDecodeErrorCode = {
  /** A delta chunk against a base the decoder does not hold, or for a tile it did not hold there. */
  baseMismatch: 'base_mismatch',
  /** tick, base or n unusable, or n below the count held at base. */
  badHeader: 'bad_header',
  /** g out of range, a tile id past the grid or not ascending, an index >= n or repeated, a rank past the base members. */
  badLayout: 'bad_layout',
  /** A varint longer than 5 bytes or >= 2^32. */
  badVarint: 'bad_varint',
  /** A position code >= 2^bits, or a member whose codes are not in its chunk's tile. */
  valueOutOfRange: 'value_out_of_range',
  /** A block width above bits, or non-zero padding bits. */
  badBlock: 'bad_block',
  truncated: 'truncated',
  overlong: 'overlong',
} as const;
export type ViewDecodeErrorCodeValue =
  (typeof ViewDecodeErrorCode)[keyof typeof ViewDecodeErrorCode];

/** Refused view data. A ViewDecoder's state is unchanged when this is thrown. */
export class ViewDecodeError extends Error {
  readonly code: ViewDecodeErrorCodeValue;
  constructor(code: keyof typeof ViewDecodeErrorCode, message: string) {
    super(message);
    this.name = 'ViewDecodeError';
    this.code = ViewDecodeErrorCode[code];
  }
}

// ── bytes ─────────────────────────────────────────────────────────────────
/** A growable byte buffer for the small varint parts of chunks. */
export class ByteWriter {
  #bytes = new Uint8Array(64);
  length = 0;

  varint(v: number): void {
    this.#room(5);
    while (v >= 0x80) {
      this.#bytes[this.length++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.#bytes[this.length++] = v;
  }

  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#bytes.set(b, this.length);
    this.length += b.length;
  }

  finish(): Uint8Array {
    return this.#bytes.slice(0, this.length);
  }

  #room(n: number): void {
    if (this.length + n <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(2 * this.#bytes.length, this.length + n));
    grown.set(this.#bytes.subarray(0, this.length));
    this.#bytes = grown;
  }
}

/** A cursor over view data; every read checks the end. */
export class ByteReader {
  readonly data: Uint8Array;
  p: number;
  constructor(data: Uint8Array, p = 0) {
    this.data = data;
    this.p = p;
  }

  u8(): number {
    if (this.p >= this.data.length) throw new ViewDecodeError('truncated', 'view data ends early');
    return this.data[this.p++];
  }

  varint(): number {
    let v = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      v += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) {
        if (v > 0xffff_ffff) throw new ViewDecodeError('badVarint', `varint ${v} is >= 2^32`);
        return v;
      }
    }
    throw new ViewDecodeError('badVarint', `varint at byte ${this.p - 5} is longer than 5 bytes`);
  }
}

/** Writes ascending `values` as gaps (first the value, then value − previous − 1). */
export function writeGaps(w: ByteWriter, values: ArrayLike<number>, count = values.length): void {
  w.varint(count);
  let prev = -1;
  for (let i = 0; i < count; i++) {
    w.varint(values[i] - prev - 1);
    prev = values[i];
  }
}

/** Reads `count` gaps into ascending values below `limit` (refused past it). */
export function readGaps(r: ByteReader, count: number, limit: number, what: string): Uint32Array {
  // A count no data could hold is refused before allocating for it.
  if (count > r.data.length - r.p) {
    throw new ViewDecodeError('truncated', `${count} ${what} cannot fit in the data left`);
  }
  const out = new Uint32Array(count);
  let prev = -1;
  for (let i = 0; i < count; i++) {
    prev += r.varint() + 1;
    if (prev >= limit)
      throw new ViewDecodeError('badLayout', `${what} ${prev} is not below ${limit}`);
    out[i] = prev;
  }
  return out;
}

// ── Position coding (v1) ──────────────────────────────────────────────────
/** Interleaved codes of `positions` at `indices[0..count)` (a tile's subset). */
export function gather(
  positions: Uint16Array,
  indices: ArrayLike<number>,
  count = indices.length,
  out: Uint16Array = new Uint16Array(2 * count),
  at = 0,
): Uint16Array {
  for (let i = 0; i < count; i++) {
    const j = 2 * indices[i];
    out[2 * (at + i)] = positions[j];
    out[2 * (at + i) + 1] = positions[j + 1];
  }
  return out;
}

/** Key body positions: the subset's keyframe. */
export function encodeSubsetKey(subset: Uint16Array, count: number): Uint8Array {
  return encodeKeyframe({ tick: 0, count, positions: subset });
}

/** Delta body positions: `stayed` base codes to `stayed + entered` frame codes. */
export function encodeSubsetDelta(
  baseSubset: Uint16Array,
  stayed: number,
  frameSubset: Uint16Array,
  count: number,
  bits: number,
): Uint8Array {
  return encodeDelta(
    { tick: 0, count: stayed, positions: baseSubset },
    { tick: 1, count, positions: frameSubset },
    bits,
  );
}

/** Reads `count` raw positions (a subset keyframe) into `out`. */
export function readSubsetKey(r: ByteReader, count: number, bits: number, out: Uint16Array): void {
  const end = r.p + count * RAW_PARTICLE_BYTES;
  if (end > r.data.length)
    throw new ViewDecodeError('truncated', 'view data ends inside positions');
  readRaw(r, 0, count, bits, out);
}

/**
 * Reads a subset delta: `prev` holds the s stayed members' base codes; `out`
 * gets s + e codes (stayed, then entered raw). The v1 delta layout
 * (frame-codec.ts) on a subset, self-delimiting given s and e.
 */
export function readSubsetDelta(
  r: ByteReader,
  prev: Uint16Array,
  s: number,
  e: number,
  bits: number,
  out: Uint16Array,
): void {
  const { data } = r;
  const mask = (1 << bits) - 1;
  for (let start = 0; start < s; start += DELTA_BLOCK) {
    const blockAt = r.p;
    const wx = r.u8();
    const wy = r.u8();
    if (wx > bits || wy > bits) {
      throw new ViewDecodeError(
        'badBlock',
        `block at byte ${blockAt} has widths ${wx}/${wy} above ${bits}`,
      );
    }
    const stop = Math.min(start + DELTA_BLOCK, s);
    if (r.p + (((stop - start) * (wx + wy) + 7) >> 3) > data.length) {
      throw new ViewDecodeError('truncated', `view data ends inside the block at byte ${blockAt}`);
    }
    let acc = 0;
    let held = 0;
    for (let axis = 0; axis < 2; axis++) {
      const w = axis === 0 ? wx : wy;
      const wmask = (1 << w) - 1;
      for (let i = start; i < stop; i++) {
        const j = 2 * i + axis;
        if (w === 0) {
          out[j] = prev[j];
          continue;
        }
        while (held < w) {
          acc |= data[r.p++] << held;
          held += 8;
        }
        const z = acc & wmask;
        acc >>>= w;
        held -= w;
        out[j] = (prev[j] + ((z >>> 1) ^ -(z & 1))) & mask;
      }
    }
    if (acc !== 0)
      throw new ViewDecodeError('badBlock', `non-zero padding in the block at byte ${blockAt}`);
  }
  if (r.p + e * RAW_PARTICLE_BYTES > data.length) {
    throw new ViewDecodeError('truncated', 'view data ends inside entered positions');
  }
  readRaw(r, s, s + e, bits, out);
}

function readRaw(r: ByteReader, from: number, to: number, bits: number, out: Uint16Array): void {
  const { data } = r;
  let seen = 0;
  for (let j = 2 * from, end = 2 * to; j < end; j++, r.p += 2) {
    const v = data[r.p] | (data[r.p + 1] << 8);
    seen |= v;
    out[j] = v;
  }
  if (seen >> bits !== 0)
    throw new ViewDecodeError('valueOutOfRange', `a raw code is >= 2^${bits}`);
}

// ── Chunk encoders (server) ───────────────────────────────────────────────
/** The members of tile `t` in `index`. */
export const tileMembers = (index: TileIndex, t: number): Uint32Array =>
  index.members.subarray(index.start[t], index.start[t + 1]);

/** A key chunk body: the tile's members and their positions at this tick. */
export function encodeTileKey(positions: Uint16Array, members: Uint32Array): Uint8Array {
  const w = new ByteWriter();
  writeGaps(w, members);
  w.bytes(encodeSubsetKey(gather(positions, members), members.length));
  return w.finish();
}

/**
 * A delta chunk body for one tile, from its members at base (`before`, with
 * `basePositions`) to its members now (`after`, with `positions`).
 */
export function encodeTileDelta(
  basePositions: Uint16Array,
  before: Uint32Array,
  positions: Uint16Array,
  after: Uint32Array,
  bits: number,
): Uint8Array {
  const left: number[] = [];
  const stayed: number[] = [];
  const entered: number[] = [];
  // Merge two ascending lists: what is in both stayed.
  let a = 0;
  let b = 0;
  while (a < before.length || b < after.length) {
    if (b >= after.length || (a < before.length && before[a] < after[b])) left.push(a++);
    else if (a >= before.length || after[b] < before[a]) entered.push(after[b++]);
    else {
      stayed.push(before[a]);
      a++;
      b++;
    }
  }
  const s = stayed.length;
  const w = new ByteWriter();
  writeGaps(w, left);
  writeGaps(w, entered);
  const baseSubset = gather(basePositions, stayed);
  const frameSubset = gather(positions, stayed, s, new Uint16Array(2 * (s + entered.length)));
  gather(positions, entered, entered.length, frameSubset, s);
  w.bytes(encodeSubsetDelta(baseSubset, s, frameSubset, s + entered.length, bits));
  return w.finish();
}

/** One chunk of a frame: its tile, its kind and its (shared) body. */
export interface ViewChunk {
  tile: number;
  kind: ViewChunkKind;
  body: Uint8Array;
}

/** A view frame's data from its chunks (ascending tiles): the only per-client copy. */
export function assembleViewData(g: number, chunks: readonly ViewChunk[]): Uint8Array {
  const w = new ByteWriter();
  w.varint(g); // < 0x80: one byte, as the layout's u8
  w.varint(chunks.length);
  let prev = -1;
  for (const chunk of chunks) {
    w.varint(((chunk.tile - prev - 1) << 1) | chunk.kind);
    w.bytes(chunk.body);
    prev = chunk.tile;
  }
  return w.finish();
}
