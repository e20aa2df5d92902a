/**
 * View frame codec: the byte layout of a `view` frame's `data` (the tiles a
 * client subscribed to, docs/PROTOCOL.md "View frames"), the per-tile chunk
 * encoders the server runs once per (tile, prior, base, tick), and the
 * stateless per-tile decoders ViewDecoder (view-decoder.ts) calls.
 *
 * The per-tile *position* coding is here and only here ("Position coding"
 * below): `gather` a tile's members, put the stayed ones in prediction
 * order (predictionOrder: second order first), code their residuals as the
 * frame codec's delta section (encodeMoves, read back by readMoves, both
 * on frame-encode.ts / frame-decode.ts), and tile-local codes for members
 * new to the client (encodeLocal, readLocal).
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
 *                 members as at base, 2 = the same with every k zero, 3 = delta
 *                 whose members changed
 *     key body:   varint k; k varint index gaps (first the index, then index −
 *                 previous − 1); then the k members' tile-local positions
 *     delta body: against the tile's members at `base`, ascending (m of them),
 *                 which the client holds if its frame at base held the tile,
 *                 its coarse parent or all four of its fine children:
 *                 only for flags 3: varint le = 16·l + 2·min(e, 7) + z, then
 *                 varint (e − 7) only if min(e, 7) = 7 (z = 1: every k zero);
 *                 l varint rank gaps (ranks in the base members of the l that
 *                 left the tile); e varint index gaps (the e that entered);
 *                 then the s = m − l stayed members' positions in prediction
 *                 order: first those that were members of the tile at `prior`
 *                 (only when the frame has a prior and the client's frame at
 *                 prior held the tile, its parent or its four children: a
 *                 second-order chunk), then the others, each ascending index;
 *                 coded exactly as section 1 of a frame delta with m = s
 *                 (docs/PROTOCOL.md "Particle data": Rice blocks of 32, a
 *                 4-bit k per axis and block; the first group predicted
 *                 second order over g0 = base − prior, g1 = tick − base, the
 *                 rest first order), zero-padded to a byte; with every k
 *                 zero (flags 2, or z = 1) the blocks' 8-bit k headers are
 *                 left out and each k is 0;
 *                 then the e entered members' tile-local positions.
 *     tile-local positions: for each member, ascending index, x then y, the
 *                 low w = bits − level bits of its code (level g for a
 *                 coarse tile, g + 1 for a fine one; the top bits are the
 *                 tile's), as one LSB-first bit stream zero-padded to a byte.
 * Nothing follows the last chunk. A tile with no members at `tick` is left
 * out (a client holding it drops it: it holds nothing there).
 */
import { encodeDelta } from './frame-encode.js';
import { FrameDecodeError, FrameDecodeErrorCode, readMovedSection } from './frame-decode.js';
import type { TileIndex } from './view-grid.js';

/** Why view data was refused: one table, values stable for logs. */
export const ViewDecodeErrorCode = {
  /** A delta chunk against a base the decoder does not hold, or for a tile it did not hold there. */
  baseMismatch: 'base_mismatch',
  /** A frame whose `prior` is not the tick the decoder held before its newest. */
  priorMismatch: 'prior_mismatch',
  /** tick, base, prior or n unusable, a prediction gap above 255, or n below the count held at base. */
  badHeader: 'bad_header',
  /** g out of range, a tile id past the grid or not ascending, an index >= n or repeated, a rank past the base members. */
  badLayout: 'bad_layout',
  /** A varint longer than 5 bytes or >= 2^32. */
  badVarint: 'bad_varint',
  /** A position code >= 2^bits, or a member whose codes are not in its chunk's tile. */
  valueOutOfRange: 'value_out_of_range',
  /** A Rice parameter >= bits, or non-zero padding bits. */
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

/** A changed delta body's counts: members that left, members that entered, and whether its Rice parameters are all zero. */
export function readDeltaCounts(r: ByteReader): { left: number; entered: number; zeroK: boolean } {
  const le = r.varint();
  const low = (le >>> 1) % 8;
  return {
    left: Math.floor(le / 16),
    entered: low === 7 ? 7 + r.varint() : low,
    zeroK: le % 2 === 1,
  };
}

/** The first varint of a changed delta body (readDeltaCounts reads it back). */
export function writeDeltaCounts(
  w: ByteWriter,
  left: number,
  entered: number,
  zeroK: boolean,
): void {
  w.varint(16 * left + 2 * Math.min(entered, 7) + (zeroK ? 1 : 0));
  if (entered >= 7) w.varint(entered - 7);
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

// ── Position coding ──────────────────────────────────────────────────
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
 * The order the stayed members' residuals are coded in: first those that
 * were members of the tile at prior too (predicted second order; none
 * without a prior), then the rest (first order), each ascending. Both
 * halves of the codec take it from here. `stayed` and `priorMembers` are
 * ascending; returns the order and how many of it are predicted.
 */
export function predictionOrder(
  stayed: ArrayLike<number>,
  priorMembers: ArrayLike<number> | undefined,
): { order: Uint32Array; predicted: number } {
  const order = new Uint32Array(stayed.length);
  if (!priorMembers || priorMembers.length === 0) {
    order.set(stayed as ArrayLike<number>);
    return { order, predicted: 0 };
  }
  const rest: number[] = [];
  let predicted = 0;
  for (let k = 0, q = 0; k < stayed.length; k++) {
    const i = stayed[k];
    while (q < priorMembers.length && priorMembers[q] < i) q++;
    if (q < priorMembers.length && priorMembers[q] === i) order[predicted++] = i;
    else rest.push(i);
  }
  order.set(rest, predicted);
  return { order, predicted };
}

/** The prediction of a second-order chunk: the prior's codes of the predicted members and the gaps. */
export interface TilePrediction {
  /** Codes at prior of the first `predicted` members in prediction order. */
  priorSubset: Uint16Array;
  predicted: number;
  /** base − prior and tick − base, each in [1, MAX_PREDICTION_GAP]. */
  g0: number;
  g1: number;
}

/**
 * Stayed members' positions, from their `s` base codes to as many frame
 * codes (x, y interleaved, in prediction order): section 1 of the frame
 * codec's delta (frame-encode.ts: Rice blocks of 32, a 4-bit k per axis and
 * block), second order for the first `prediction.predicted` members,
 * zero-padded to a byte. Or, `zeroK`, the same blocks without their k
 * bytes, every k 0: whichever is shorter (zeroK on a tie). At 60 Hz most
 * tiles' second-order residuals have k = 0 in every block, and the k byte
 * was the largest cost a chunk had of its own (bench:view, BENCHMARKS.md).
 */
export function encodeMoves(
  baseSubset: Uint16Array,
  frameSubset: Uint16Array,
  s: number,
  bits: number,
  prediction: TilePrediction | undefined,
): { bytes: Uint8Array; zeroK: boolean } {
  if (s === 0) return { bytes: new Uint8Array(0), zeroK: true };
  const g0 = prediction?.g0 ?? 1;
  const base = { tick: g0, count: s, positions: baseSubset };
  const frame = { tick: g0 + (prediction?.g1 ?? 1), count: s, positions: frameSubset };
  const prior =
    prediction && prediction.predicted > 0
      ? { tick: 0, count: prediction.predicted, positions: prediction.priorSubset }
      : undefined;
  const zero = encodeDelta(base, frame, bits, prior, true);
  const blocks = encodeDelta(base, frame, bits, prior);
  return zero.length <= blocks.length
    ? { bytes: zero, zeroK: true }
    : { bytes: blocks, zeroK: false };
}

/**
 * Reads what encodeMoves wrote: `prev` holds the s base codes (prediction
 * order), `out` gets their codes now. Self-delimiting given s; the bytes
 * after it start at the next byte boundary.
 */
export function readMoves(
  r: ByteReader,
  prev: Uint16Array,
  s: number,
  bits: number,
  prediction: TilePrediction | undefined,
  zeroK: boolean,
  out: Uint16Array,
): void {
  if (s === 0) return;
  const at = { p: r.p, acc: 0, held: 0 };
  try {
    readMovedSection(
      r.data,
      at,
      s,
      bits,
      prev,
      prediction?.priorSubset ?? prev,
      2 * (prediction?.predicted ?? 0),
      prediction?.g0 ?? 1,
      prediction?.g1 ?? 1,
      out,
      zeroK,
    );
  } catch (error) {
    if (!(error instanceof FrameDecodeError)) throw error;
    const code =
      error.code === FrameDecodeErrorCode.truncated
        ? 'truncated'
        : error.code === FrameDecodeErrorCode.valueOutOfRange
          ? 'valueOutOfRange'
          : 'badBlock';
    throw new ViewDecodeError(code, `tile positions: ${error.message}`);
  }
  // The refills may have read ahead: the section ends at bit 8·p − held.
  const end = 8 * at.p - at.held;
  const padding = (8 - (end & 7)) & 7;
  if ((at.acc & ((1 << padding) - 1)) !== 0) {
    throw new ViewDecodeError('badBlock', 'non-zero padding after tile moves');
  }
  r.p = (end + padding) >> 3;
}

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

// ── Chunk encoders (server) ───────────────────────────────────────────────
/** The members of tile `t` in `index`. */
export const tileMembers = (index: TileIndex, t: number): Uint32Array =>
  index.members.subarray(index.start[t], index.start[t + 1]);

/**
 * A chunk's flags, the low two bits of its header: key; delta with the same
 * members as at base (no counts follow), with k bytes or with every k zero
 * (none written); delta whose members changed (its counts say which k).
 */
export const VIEW_CHUNK = { key: 0, delta: 1, deltaZeroK: 2, deltaChanged: 3 } as const;
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

/** What a second-order delta chunk predicts from: the tile's members at prior, their codes there, the gaps. */
export interface TilePrior {
  positions: Uint16Array;
  /** The tile's members at prior, ascending. */
  members: Uint32Array;
  /** base − prior and tick − base, each in [1, MAX_PREDICTION_GAP]. */
  g0: number;
  g1: number;
}

/**
 * A delta chunk for one tile, from its members at base (`before`, with
 * `basePositions`) to its members now (`after`, with `positions`); `width`
 * is the tile's local code width (bits − level). With `prior` (the client
 * held the tile at prior too), members that were in it at prior are
 * predicted second order.
 */
export function encodeTileDelta(
  basePositions: Uint16Array,
  before: Uint32Array,
  positions: Uint16Array,
  after: Uint32Array,
  bits: number,
  width: number,
  prior?: TilePrior,
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
  const { order, predicted } = predictionOrder(stayed, prior?.members);
  const prediction = prior && {
    priorSubset: gather(prior.positions, order, predicted),
    predicted,
    g0: prior.g0,
    g1: prior.g1,
  };
  const moves = encodeMoves(
    gather(basePositions, order),
    gather(positions, order),
    s,
    bits,
    prediction,
  );
  if (changed) {
    writeDeltaCounts(w, left.length, e, moves.zeroK);
    writeGaps(w, left);
    writeGaps(w, entered);
  }
  w.bytes(moves.bytes);
  if (e > 0) w.bytes(encodeLocal(gather(positions, entered), e, width));
  const flags = changed
    ? VIEW_CHUNK.deltaChanged
    : moves.zeroK
      ? VIEW_CHUNK.deltaZeroK
      : VIEW_CHUNK.delta;
  return { flags, body: w.finish() };
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
