/**
 * View frame codec: the byte layout of a `view` frame's `data` (the tiles a
 * client subscribed to, docs/PROTOCOL.md "View frames"), the per-tile chunk
 * encoders the server runs once per (tile, base, tick), and the stateless
 * per-tile decoders ViewDecoder (view-decoder.ts) calls.
 *
 * The per-tile *position* coding is here and only here ("Position coding"
 * below): `gather` a tile's members, then a first-order block coding of
 * the stayed subset (encodeSubsetDelta, read back by readSubsetDelta) and
 * tile-local codes for members new to the client (encodeLocal, readLocal).
 * A new position coder replaces those four functions.
 * Isomorphic: no node: modules, no Buffer.
 *
 * ── Byte layout ───────────────────────────────────────────────────────────
 * varint = unsigned LEB128, at most 5 bytes, value < 2^32.
 *   u8 g          coarse grid bits (view-grid.ts), g <= min(bits − 1, 7): tile ids
 *                 [0, 4^g) are coarse tiles (2^g per side), [4^g, 4^g + 4^(g+1))
 *                 fine tiles (2^(g+1) per side, id − 4^g row-major)
 *   varint c      chunks that follow, one per tile present, ascending tile id
 *   c × chunk:
 *     varint h    4·gap + flags: gap = tile − previous tile − 1 (previous is −1
 *                 for the first chunk); flags 0 = key, 1 = delta with the same
 *                 members as at base, 3 = delta whose members changed (2 is refused)
 *     key body:   varint k; k varint index gaps (first the index, then index −
 *                 previous − 1); then the k members' tile-local positions
 *     delta body: against the tile's members at `base`, ascending (m of them),
 *                 which the client holds if its frame at base held the tile,
 *                 its coarse parent or all four of its fine children:
 *                 only for flags 3: varint le = 8·l + min(e, 7), then varint
 *                 (e − 7) only if min(e, 7) = 7; l varint rank gaps (ranks in
 *                 the base members of the l that left the tile); e varint index
 *                 gaps (the e that entered);
 *                 then the s = m − l stayed members' positions, ascending
 *                 index, in blocks of 32: a width byte wx | wy << 4 (two
 *                 bytes, wx then wy, when bits > 15), then one LSB-first bit
 *                 stream of the block's zigzag x moves at wx bits and then
 *                 its y moves at wy bits, zero-padded to a byte (a move is
 *                 the code difference wrapped into [−B/2, B/2));
 *                 then the e entered members' tile-local positions.
 *     tile-local positions: for each member, ascending index, x then y, the
 *                 low w = bits − level bits of its code (level g for a
 *                 coarse tile, g + 1 for a fine one; the top bits are the
 *                 tile's), as one LSB-first bit stream zero-padded to a byte.
 * Nothing follows the last chunk. A tile with no members at `tick` is left
 * out (a client holding it drops it: it holds nothing there).
 */
/** Members per block of a stayed-positions section (the same 32 as the frame codec's blocks). */
const DELTA_BLOCK = 32;
import type { TileIndex } from './view-grid.js';

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
  let prev = -1;
  for (let i = 0; i < count; i++) {
    w.varint(values[i] - prev - 1);
    prev = values[i];
  }
}

/** A delta body's counts: members that left, members that entered. */
export function readDeltaCounts(r: ByteReader): { left: number; entered: number } {
  const le = r.varint();
  const low = le % 8;
  return { left: Math.floor(le / 8), entered: low === 7 ? 7 + r.varint() : low };
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

/**
 * Stayed members' positions, from `stayed` base codes to as many frame
 * codes (x, y interleaved): blocks of DELTA_BLOCK members, each a width
 * byte (wx | wy << 4; two bytes, wx then wy, above 15 bits) and one
 * LSB-first bit stream of the block's x values at wx bits then its y values
 * at wy bits, zero-padded to a byte. A value is zigzag(d), d the move on
 * that axis wrapped into [−B/2, B/2); a width is the smallest that holds
 * the block's largest value (0 when nothing moved on that axis).
 */
export function encodeSubsetDelta(
  baseSubset: Uint16Array,
  frameSubset: Uint16Array,
  stayed: number,
  bits: number,
): Uint8Array {
  const size = 1 << bits;
  const half = size >> 1;
  const mask = size - 1;
  const widthBytes = bits <= NIBBLE_WIDTH_BITS ? 1 : 2;
  const blocks = Math.ceil(stayed / DELTA_BLOCK);
  const out = new Uint8Array(blocks * widthBytes + ((2 * stayed * bits + 7) >> 3) + blocks);
  const z = new Uint32Array(2 * DELTA_BLOCK);
  let q = 0;
  for (let start = 0; start < stayed; start += DELTA_BLOCK) {
    const length = Math.min(DELTA_BLOCK, stayed - start);
    let maxX = 0;
    let maxY = 0;
    for (let i = 0; i < length; i++) {
      for (let axis = 0; axis < 2; axis++) {
        const j = 2 * (start + i) + axis;
        let d = (frameSubset[j] - baseSubset[j]) & mask;
        if (d >= half) d -= size;
        const value = d >= 0 ? 2 * d : -2 * d - 1;
        z[axis * DELTA_BLOCK + i] = value;
        if (axis === 0) maxX |= value;
        else maxY |= value;
      }
    }
    const wx = 32 - Math.clz32(maxX);
    const wy = 32 - Math.clz32(maxY);
    if (widthBytes === 1) out[q++] = wx | (wy << 4);
    else {
      out[q++] = wx;
      out[q++] = wy;
    }
    let acc = 0;
    let held = 0;
    for (let axis = 0; axis < 2; axis++) {
      const w = axis === 0 ? wx : wy;
      if (w === 0) continue;
      for (let i = 0; i < length; i++) {
        acc |= z[axis * DELTA_BLOCK + i] << held;
        held += w;
        while (held >= 8) {
          out[q++] = acc & 0xff;
          acc >>>= 8;
          held -= 8;
        }
      }
    }
    if (held > 0) out[q++] = acc & 0xff;
  }
  return out.slice(0, q);
}

/** Up to this many bits, widths (<= bits) fit a nibble each. */
const NIBBLE_WIDTH_BITS = 15;

/**
 * New members' positions (key chunks, and the entered of delta chunks):
 * within the tile, so only the low `width` = bits − level bits of each code,
 * x then y per particle, one LSB-first bit stream padded with zeros to a
 * byte. 18 bits a particle in a fine tile at 14 bits, against 32 raw.
 */
export function encodeLocal(subset: Uint16Array, count: number, width: number): Uint8Array {
  const out = new Uint8Array((2 * count * width + 7) >> 3);
  const mask = (1 << width) - 1;
  let acc = 0;
  let held = 0;
  let p = 0;
  for (let j = 0; j < 2 * count; j++) {
    acc |= (subset[j] & mask) << held;
    held += width;
    while (held >= 8) {
      out[p++] = acc;
      acc >>>= 8;
      held -= 8;
    }
  }
  if (held > 0) out[p] = acc;
  return out;
}

/** Reads `count` tile-local positions into out[2·at…], adding the tile's origin codes. */
export function readLocal(
  r: ByteReader,
  count: number,
  width: number,
  originX: number,
  originY: number,
  out: Uint16Array,
  at: number,
): void {
  const bytes = (2 * count * width + 7) >> 3;
  if (r.p + bytes > r.data.length) {
    throw new ViewDecodeError('truncated', 'view data ends inside tile positions');
  }
  const { data } = r;
  const mask = (1 << width) - 1;
  let acc = 0;
  let held = 0;
  for (let j = 2 * at, end = 2 * (at + count); j < end; j++) {
    while (held < width) {
      acc |= data[r.p++] << held;
      held += 8;
    }
    out[j] = ((j & 1) === 0 ? originX : originY) | (acc & mask);
    acc >>>= width;
    held -= width;
  }
  if (acc !== 0) throw new ViewDecodeError('badBlock', 'non-zero padding after tile positions');
}

/**
 * Reads the stayed members' delta: `prev` holds their s base codes, `out`
 * gets their s codes now. The v1 delta layout (frame-codec.ts) on a subset
 * (widths as nibbles when bits <= 15), self-delimiting given s.
 */
export function readSubsetDelta(
  r: ByteReader,
  prev: Uint16Array,
  s: number,
  bits: number,
  out: Uint16Array,
): void {
  const { data } = r;
  const mask = (1 << bits) - 1;
  for (let start = 0; start < s; start += DELTA_BLOCK) {
    const blockAt = r.p;
    let wx = r.u8();
    let wy: number;
    if (bits <= NIBBLE_WIDTH_BITS) {
      wy = wx >>> 4;
      wx &= 15;
    } else wy = r.u8();
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
}

// ── Chunk encoders (server) ───────────────────────────────────────────────
/** The members of tile `t` in `index`. */
export const tileMembers = (index: TileIndex, t: number): Uint32Array =>
  index.members.subarray(index.start[t], index.start[t + 1]);

/**
 * A chunk's flags, the low two bits of its header: key; delta with the same
 * members as at base (no counts follow); delta whose members changed.
 */
export const VIEW_CHUNK = { key: 0, delta: 1, deltaChanged: 3 } as const;
export type ViewChunkFlags = (typeof VIEW_CHUNK)[keyof typeof VIEW_CHUNK];

/** One encoded chunk: its flags and its body (shared by every client that needs it). */
export interface EncodedChunk {
  flags: ViewChunkFlags;
  body: Uint8Array;
}

/** The codes of tile `local`'s origin at `level` bits per side, and the width of its local codes. */
export function tileOrigin(
  local: number,
  level: number,
  bits: number,
): { x: number; y: number; width: number } {
  const width = bits - level;
  return {
    x: (local & ((1 << level) - 1)) << width,
    y: (local >>> level) << width,
    width,
  };
}

/** A key chunk: the tile's members and their tile-local positions at this tick. */
export function encodeTileKey(
  positions: Uint16Array,
  members: Uint32Array,
  width: number,
): EncodedChunk {
  const w = new ByteWriter();
  w.varint(members.length);
  writeGaps(w, members);
  w.bytes(encodeLocal(gather(positions, members), members.length, width));
  return { flags: VIEW_CHUNK.key, body: w.finish() };
}

/**
 * A delta chunk for one tile, from its members at base (`before`, with
 * `basePositions`) to its members now (`after`, with `positions`); `width`
 * is the tile's local code width (bits − level).
 */
export function encodeTileDelta(
  basePositions: Uint16Array,
  before: Uint32Array,
  positions: Uint16Array,
  after: Uint32Array,
  bits: number,
  width: number,
): EncodedChunk {
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
  const e = entered.length;
  const changed = left.length + e > 0;
  const w = new ByteWriter();
  if (changed) {
    w.varint(8 * left.length + Math.min(e, 7));
    if (e >= 7) w.varint(e - 7);
    writeGaps(w, left);
    writeGaps(w, entered);
  }
  w.bytes(encodeSubsetDelta(gather(basePositions, stayed), gather(positions, stayed), s, bits));
  if (e > 0) w.bytes(encodeLocal(gather(positions, entered), e, width));
  return { flags: changed ? VIEW_CHUNK.deltaChanged : VIEW_CHUNK.delta, body: w.finish() };
}

/** One chunk of a frame: its tile and its encoded flags and body. */
export interface ViewChunk extends EncodedChunk {
  tile: number;
}

/** A view frame's data from its chunks (ascending tiles): the only per-client copy. */
export function assembleViewData(g: number, chunks: readonly ViewChunk[]): Uint8Array {
  const w = new ByteWriter();
  w.varint(g); // < 0x80: one byte, as the layout's u8
  w.varint(chunks.length);
  let prev = -1;
  for (const chunk of chunks) {
    w.varint((chunk.tile - prev - 1) * 4 + chunk.flags);
    w.bytes(chunk.body);
    prev = chunk.tile;
  }
  return w.finish();
}
