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
 * ── Layout ────────────────────────────────────────────────────────────────
 * The data is one LSB-first bit stream (as in docs/PROTOCOL.md "Particle
 * data"): fields follow each other with no alignment, and zero bits pad
 * the end to a byte. gamma(v) = Elias gamma of v + 1: z zero bits, a one
 * bit, then the low z bits of v + 1 as a z-bit field (z = floor(log2(v +
 * 1)), at most 31). iw = the bits of an index below n: 0 if n <= 1, else
 * the bit length of n − 1.
 *   g: 8 bits     coarse grid bits (view-grid.ts), g <= min(bits − 1, 7): tile ids
 *                 [0, 4^g) are coarse tiles (2^g per side), [4^g, 4^g + 4^(g+1))
 *                 fine tiles (2^(g+1) per side, id − 4^g row-major)
 *   the frame's tiles (those with members, one chunk each), against H = the
 *                 tiles of the client's frame at `base`, ascending (none when the
 *                 frame has no base):
 *     kept        if H is not empty: 1 bit, 1 if the frame has every tile of
 *                 H (kept); if 0, |H| bits: for each tile of H, 1 if kept
 *     gamma(a)    tiles added (not in H), then a gamma gaps: their ids, ascending
 *                 (the first id, then id − previous − 1)
 *   one chunk per tile, kept and added together in ascending id:
 *     kind        `1`: delta with the same members as at base, every Rice
 *                 parameter zero; `01`: delta whose members changed, every k
 *                 zero; `001`: delta whose members changed; `0001`: delta
 *                 with the same members; `0000`: key (bits in stream order)
 *     key body:   gamma(k); the k member indices, ascending, iw bits each;
 *                 then the k members' tile-local positions
 *     delta body: against the tile's members at `base`, ascending (m of them),
 *                 which the client holds if its frame at base held the tile,
 *                 its coarse parent or all four of its fine children:
 *                 only for a delta whose members changed: gamma(l),
 *                 gamma(e); l gamma rank gaps (ranks in the base
 *                 members of the l that left the tile: the first rank, then
 *                 rank − previous − 1); the e entered indices, ascending, iw
 *                 bits each;
 *                 then the s = m − l stayed members' positions in prediction
 *                 order: first those that were members of the tile at `prior`
 *                 (only when the frame has a prior and the client's frame at
 *                 prior held the tile, its parent or its four children: a
 *                 second-order chunk), then the others, each ascending index;
 *                 coded exactly as section 1 of a frame delta with m = s
 *                 (docs/PROTOCOL.md "Particle data": Rice blocks of 32, a
 *                 4-bit k per axis and block; the first group predicted
 *                 second order over g0 = base − prior, g1 = tick − base, the
 *                 rest first order); in a kind with every k zero the
 *                 blocks' 8-bit k fields are left out and each k is 0;
 *                 then the e entered members' tile-local positions.
 *     tile-local positions: for each member, in the order listed, x then y,
 *                 the low w = bits − level bits of its code (level g for a
 *                 coarse tile, g + 1 for a fine one; the top bits are the
 *                 tile's), w bits each.
 * Nothing follows the last chunk but the padding. A tile with no members at
 * `tick` is left out (a client holding it drops it: it holds nothing there).
 */
import { encodeDeltaBits } from './frame-encode.js';
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
  /** g out of range, a tile id past the grid, an index >= n, repeated or not ascending, a rank past the base members. */
  badLayout: 'bad_layout',
  /** A count code (Elias gamma) with more than 31 leading zeros. */
  badVarint: 'bad_varint',
  /** A position code >= 2^bits, or a member whose codes are not in its chunk's tile. */
  valueOutOfRange: 'value_out_of_range',
  /** A Rice parameter >= bits, or non-zero padding bits at the end. */
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

// ── bits ──────────────────────────────────────────────────────────────────
/** A growable LSB-first bit stream: a frame's data, or one chunk's body. */
export class BitWriter {
  #bytes: Uint8Array;
  /** Bits written. */
  bitLength = 0;

  /** `bytes`: the size expected, so a writer that knows it never grows. */
  constructor(bytes = 64) {
    this.#bytes = new Uint8Array(bytes);
  }

  /** v (an integer in [0, 2^w)) as a w-bit field, w <= 32. */
  field(v: number, w: number): void {
    if (w > 24) {
      this.field(v & 0xffff, 16);
      this.field(Math.floor(v / 65536), w - 16);
      return;
    }
    if (w === 0) return;
    const pos = this.bitLength;
    if (pos + w + 8 > 8 * this.#bytes.length) this.#grow(w + 8);
    const bytes = this.#bytes;
    const off = pos & 7;
    let p = pos >> 3;
    // w + off <= 31 bits: one shift, then whole bytes (past the end they are zero).
    let x = v << off;
    bytes[p] |= x & 0xff;
    for (let left = w + off - 8; left > 0; left -= 8) {
      x >>>= 8;
      bytes[++p] = x & 0xff;
    }
    this.bitLength = pos + w;
  }

  /** v in [0, 2^32 − 1) as an Elias gamma code of v + 1: z zero bits, a one, then the low z bits of v + 1. */
  gamma(v: number): void {
    const u = v + 1;
    const z = 31 - Math.clz32(u);
    this.field(0, z);
    this.field(1, 1);
    this.field(u - 2 ** z, z);
  }

  /** Appends another stream of `bitLength` bits, zero-padded to a byte (as finish() gives it). */
  append(bytes: Uint8Array, bitLength: number): void {
    const count = (bitLength + 7) >> 3;
    if (this.bitLength + bitLength + 8 > 8 * this.#bytes.length) this.#grow(bitLength + 8);
    const out = this.#bytes;
    const off = this.bitLength & 7;
    let p = this.bitLength >> 3;
    if (off === 0) out.set(bytes.subarray(0, count), p);
    else {
      for (let i = 0; i < count; i++, p++) {
        const v = bytes[i];
        out[p] |= (v << off) & 0xff;
        out[p + 1] = v >>> (8 - off);
      }
    }
    this.bitLength += bitLength;
  }

  /** The stream, zero-padded to a byte. */
  finish(): Uint8Array {
    return this.#bytes.slice(0, (this.bitLength + 7) >> 3);
  }

  /** Room for `bits` more bits (writes may touch the byte after them: it stays zero). */
  #grow(bits: number): void {
    const need = (this.bitLength + bits + 7) >> 3;
    const grown = new Uint8Array(Math.max(2 * this.#bytes.length, need));
    grown.set(this.#bytes);
    this.#bytes = grown;
  }
}

/** A cursor over a view frame's bit stream; every read checks the end. */
export class BitReader {
  readonly data: Uint8Array;
  /** Bits read. */
  pos = 0;
  constructor(data: Uint8Array) {
    this.data = data;
  }

  /** Bits left before the end of the data. */
  get left(): number {
    return 8 * this.data.length - this.pos;
  }

  /** A w-bit field, w <= 32. */
  field(w: number): number {
    if (w > 24) return this.field(16) + this.field(w - 16) * 65536;
    if (w > this.left) throw new ViewDecodeError('truncated', 'view data ends inside a field');
    if (w === 0) return 0;
    const { data } = this;
    const pos = this.pos;
    let p = pos >> 3;
    const off = pos & 7;
    // At most 31 bits gathered: a small integer throughout.
    let x = data[p] >>> off;
    for (let got = 8 - off; got < w; got += 8) x |= data[++p] << got;
    this.pos = pos + w;
    return x & ((1 << w) - 1);
  }

  /** An Elias gamma code (BitWriter.gamma). */
  gamma(): number {
    let z = 0;
    while (this.field(1) === 0) {
      if (++z > 31) {
        throw new ViewDecodeError('badVarint', `a count code at bit ${this.pos} has over 31 zeros`);
      }
    }
    return 2 ** z + this.field(z) - 1;
  }
}

/** Bits of a particle index field in a frame of n particles (0 when n <= 1). */
export const indexWidth = (n: number): number => (n <= 1 ? 0 : 32 - Math.clz32(n - 1));

/** Writes ascending `values` as gaps (first the value, then value − previous − 1), each a gamma code. */
export function writeGaps(w: BitWriter, values: ArrayLike<number>): void {
  let prev = -1;
  for (let i = 0; i < values.length; i++) {
    w.gamma(values[i] - prev - 1);
    prev = values[i];
  }
}

/** Reads `count` gamma gaps into ascending values below `limit` (refused past it). */
export function readGaps(r: BitReader, count: number, limit: number, what: string): Uint32Array {
  // A count no data could hold (a gap is at least one bit) is refused before allocating for it.
  if (count > r.left) {
    throw new ViewDecodeError('truncated', `${count} ${what} cannot fit in the data left`);
  }
  const out = new Uint32Array(count);
  let prev = -1;
  for (let i = 0; i < count; i++) {
    prev += r.gamma() + 1;
    if (prev >= limit)
      throw new ViewDecodeError('badLayout', `${what} ${prev} is not below ${limit}`);
    out[i] = prev;
  }
  return out;
}

/** Writes ascending particle indices as `width`-bit fields (indexWidth(n)). */
export function writeIndices(w: BitWriter, indices: ArrayLike<number>, width: number): void {
  for (let i = 0; i < indices.length; i++) w.field(indices[i], width);
}

/** Reads `count` strictly ascending particle indices below n as `indexWidth(n)`-bit fields. */
export function readIndices(r: BitReader, count: number, n: number): Uint32Array {
  const width = indexWidth(n);
  if (count > n) throw new ViewDecodeError('badLayout', `${count} members of ${n} particles`);
  if (count * width > r.left) {
    throw new ViewDecodeError('truncated', `${count} indices cannot fit in the data left`);
  }
  const out = new Uint32Array(count);
  let prev = -1;
  for (let k = 0; k < count; k++) {
    const i = r.field(width);
    if (i >= n || i <= prev) {
      throw new ViewDecodeError('badLayout', `index ${i} is not below ${n} and above ${prev}`);
    }
    out[k] = prev = i;
  }
  return out;
}

/** A changed delta body's counts: members that left, members that entered. */
export function readDeltaCounts(r: BitReader): { left: number; entered: number } {
  const left = r.gamma();
  return { left, entered: r.gamma() };
}

/** The counts of a changed delta body (readDeltaCounts reads them back). */
export function writeDeltaCounts(w: BitWriter, left: number, entered: number): void {
  w.gamma(left);
  w.gamma(entered);
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
 * codes (x, y interleaved, in prediction order) into `w`: section 1 of the
 * frame codec's delta (frame-encode.ts: Rice blocks of 32, a 4-bit k per
 * axis and block), second order for the first `prediction.predicted`
 * members. Or, `zeroK`, the same blocks without their k headers, every k
 * 0: whichever is shorter (zeroK on a tie). At 60 Hz most tiles'
 * second-order residuals have k = 0 in every block, and the k byte was the
 * largest cost a chunk had of its own (bench:view, BENCHMARKS.md).
 * Returns whether it wrote zeroK.
 */
export function encodeMoves(
  baseSubset: Uint16Array,
  frameSubset: Uint16Array,
  s: number,
  bits: number,
  prediction: TilePrediction | undefined,
): { bytes: Uint8Array; bitLength: number; zeroK: boolean } {
  if (s === 0) return { bytes: new Uint8Array(0), bitLength: 0, zeroK: true };
  const g0 = prediction?.g0 ?? 1;
  const base = { tick: g0, count: s, positions: baseSubset };
  const frame = { tick: g0 + (prediction?.g1 ?? 1), count: s, positions: frameSubset };
  const prior =
    prediction && prediction.predicted > 0
      ? { tick: 0, count: prediction.predicted, positions: prediction.priorSubset }
      : undefined;
  const zero = encodeDeltaBits(base, frame, bits, prior, true);
  // Where the reference rule picks 0 everywhere, the blocks are these plus their headers.
  if (zero.allZero) return { bytes: zero.data, bitLength: zero.bitLength, zeroK: true };
  const blocks = encodeDeltaBits(base, frame, bits, prior);
  const best = zero.bitLength <= blocks.bitLength ? zero : blocks;
  return { bytes: best.data, bitLength: best.bitLength, zeroK: best === zero };
}

/**
 * Reads what encodeMoves wrote: `prev` holds the s base codes (prediction
 * order), `out` gets their codes now. Self-delimiting given s.
 */
export function readMoves(
  r: BitReader,
  prev: Uint16Array,
  s: number,
  bits: number,
  prediction: TilePrediction | undefined,
  zeroK: boolean,
  out: Uint16Array,
): void {
  if (s === 0) return;
  // The frame codec's reader takes a byte cursor with pending bits: start
  // it inside the byte the stream is at.
  const { data } = r;
  const byte = r.pos >> 3;
  const skip = r.pos & 7;
  const inside = byte < data.length;
  const at = {
    p: inside ? byte + 1 : byte,
    acc: inside ? data[byte] >>> skip : 0,
    held: inside ? 8 - skip : 0,
  };
  try {
    readMovedSection(
      data,
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
  r.pos = 8 * at.p - at.held;
}

/**
 * New members' positions (key chunks, and the entered of delta chunks):
 * within the tile, so only the low `width` = bits − level bits of each code,
 * x then y per particle. 18 bits a particle in a fine tile at 14 bits,
 * against 28 raw.
 */
export function encodeLocal(
  w: BitWriter,
  positions: Uint16Array,
  members: ArrayLike<number>,
  width: number,
): void {
  const mask = (1 << width) - 1;
  for (let k = 0; k < members.length; k++) {
    const j = 2 * members[k];
    w.field(positions[j] & mask, width);
    w.field(positions[j + 1] & mask, width);
  }
}

/** Reads `count` tile-local positions into out[2·at…], adding the tile's origin codes. */
export function readLocal(
  r: BitReader,
  count: number,
  width: number,
  originX: number,
  originY: number,
  out: Uint16Array,
  at: number,
): void {
  if (2 * count * width > r.left) {
    throw new ViewDecodeError('truncated', 'view data ends inside tile positions');
  }
  for (let j = 2 * at, end = 2 * (at + count); j < end; j++) {
    out[j] = ((j & 1) === 0 ? originX : originY) | r.field(width);
  }
}

// ── Chunk encoders (server) ───────────────────────────────────────────────
/** The members of tile `t` in `index`. */
export const tileMembers = (index: TileIndex, t: number): Uint32Array =>
  index.members.subarray(index.start[t], index.start[t + 1]);

/**
 * A chunk's kind: a delta with the same members as at base (no counts
 * follow) or one whose members changed, each with every Rice parameter zero
 * (no k fields) or with its k fields; or a key. Coded as that many zero bits
 * then a one (the key: four zeros), commonest first: at 60 Hz nearly every
 * chunk is a zero-k delta, most with the same members (bench:view).
 */
export const VIEW_CHUNK = {
  deltaZeroK: 0,
  deltaChangedZeroK: 1,
  deltaChanged: 2,
  delta: 3,
  key: 4,
} as const;
export type ViewChunkFlags = (typeof VIEW_CHUNK)[keyof typeof VIEW_CHUNK];

/** Writes a chunk's kind (VIEW_CHUNK). */
export function writeChunkKind(w: BitWriter, kind: ViewChunkFlags): void {
  if (kind === VIEW_CHUNK.key) w.field(0, 4);
  else w.field(1 << kind, kind + 1);
}

/** Reads a chunk's kind (VIEW_CHUNK). */
export function readChunkKind(r: BitReader): ViewChunkFlags {
  let kind = 0;
  while (kind < VIEW_CHUNK.key && r.field(1) === 0) kind++;
  return kind as ViewChunkFlags;
}

/** One encoded chunk: its flags and its body, `bitLength` bits of `body` (shared by every client that needs it). */
export interface EncodedChunk {
  flags: ViewChunkFlags;
  body: Uint8Array;
  bitLength: number;
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

/** A key chunk: the tile's members (of n particles) and their tile-local positions at this tick. */
export function encodeTileKey(
  positions: Uint16Array,
  members: Uint32Array,
  width: number,
  n: number,
): EncodedChunk {
  const w = new BitWriter();
  w.gamma(members.length);
  writeIndices(w, members, indexWidth(n));
  encodeLocal(w, positions, members, width);
  return { flags: VIEW_CHUNK.key, body: w.finish(), bitLength: w.bitLength };
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
  n: number,
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
  const w = new BitWriter();
  const { order, predicted } = predictionOrder(stayed, prior?.members);
  // The gathered codes are read by encodeMoves, which copies its output:
  // scratch buffers, so a chunk allocates only what it returns.
  const scratch = movesScratch(s);
  const prediction = prior && {
    priorSubset: gather(prior.positions, order, predicted, scratch.prior),
    predicted,
    g0: prior.g0,
    g1: prior.g1,
  };
  const moves = encodeMoves(
    gather(basePositions, order, s, scratch.base),
    gather(positions, order, s, scratch.frame),
    s,
    bits,
    prediction,
  );
  if (changed) {
    writeDeltaCounts(w, left.length, e);
    writeGaps(w, left);
    writeIndices(w, entered, indexWidth(n));
  }
  w.append(moves.bytes, moves.bitLength);
  encodeLocal(w, positions, entered, width);
  const flags = changed
    ? moves.zeroK
      ? VIEW_CHUNK.deltaChangedZeroK
      : VIEW_CHUNK.deltaChanged
    : moves.zeroK
      ? VIEW_CHUNK.deltaZeroK
      : VIEW_CHUNK.delta;
  return { flags, body: w.finish(), bitLength: w.bitLength };
}

let scratchCodes = {
  base: new Uint16Array(256),
  frame: new Uint16Array(256),
  prior: new Uint16Array(256),
};

/** Scratch code buffers for `s` members (encoding is synchronous and never re-entered). */
function movesScratch(s: number): typeof scratchCodes {
  if (scratchCodes.base.length < 2 * s) {
    const size = Math.max(2 * s, 2 * scratchCodes.base.length);
    scratchCodes = {
      base: new Uint16Array(size),
      frame: new Uint16Array(size),
      prior: new Uint16Array(size),
    };
  }
  return scratchCodes;
}

/** One chunk of a frame: its tile and its encoded flags and body. */
export interface ViewChunk extends EncodedChunk {
  tile: number;
}

/**
 * A view frame's data from its chunks (ascending tiles): the only per-client
 * copy. `heldAtBase`: the tiles of the client's frame at base, ascending,
 * when the frame has a base (none otherwise): the frame's tiles are coded
 * against them (one bit when it keeps them all, else a bit each), so a view
 * that keeps its tiles pays no tile ids.
 */
export function assembleViewData(
  g: number,
  chunks: readonly ViewChunk[],
  heldAtBase: readonly number[] = [],
): Uint8Array {
  // The chunks, and for the tiles a few bits each (a gamma gap for an added one).
  let bits = 16 + 4 * heldAtBase.length;
  for (const chunk of chunks) bits += chunk.bitLength + 40;
  const w = new BitWriter((bits + 7) >> 3);
  w.field(g, 8);
  const added: number[] = [];
  const kept: boolean[] = [];
  let c = 0;
  for (const tile of heldAtBase) {
    while (c < chunks.length && chunks[c].tile < tile) added.push(chunks[c++].tile);
    kept.push(c < chunks.length && chunks[c].tile === tile);
    if (kept[kept.length - 1]) c++;
  }
  while (c < chunks.length) added.push(chunks[c++].tile);
  // One bit when every held tile is kept (most frames of a view), else a bit per tile.
  if (heldAtBase.length > 0) {
    const all = kept.every(Boolean);
    w.field(all ? 1 : 0, 1);
    if (!all) for (const k of kept) w.field(k ? 1 : 0, 1);
  }
  w.gamma(added.length);
  writeGaps(w, added);
  for (const chunk of chunks) {
    writeChunkKind(w, chunk.flags);
    w.append(chunk.body, chunk.bitLength);
  }
  return w.finish();
}

/**
 * Reads a frame's tiles (assembleViewData): those of `heldAtBase` it keeps,
 * then the added ones; returns them all, ascending. Refuses a tile past the
 * grid or added twice (one it held at base is kept, not added).
 */
export function readFrameTiles(
  r: BitReader,
  heldAtBase: readonly number[],
  tiles: number,
): number[] {
  const allKept = heldAtBase.length > 0 && r.field(1) === 1;
  const kept: number[] = [];
  for (const tile of heldAtBase) if (allKept || r.field(1) === 1) kept.push(tile);
  const count = r.gamma();
  if (count > tiles) throw new ViewDecodeError('badLayout', `${count} tiles added of ${tiles}`);
  const added = readGaps(r, count, tiles, 'tile');
  const all: number[] = [];
  let a = 0;
  for (const tile of kept) {
    while (a < added.length && added[a] < tile) all.push(added[a++]);
    if (a < added.length && added[a] === tile) {
      throw new ViewDecodeError('badLayout', `tile ${tile} is added, but was held at base`);
    }
    all.push(tile);
  }
  while (a < added.length) all.push(added[a++]);
  return all;
}
