/**
 * ViewDecoder: what a client keeps per connection to rebuild the particles
 * of its subscribed tiles from `view` frames (layout in view-codec.ts,
 * docs/PROTOCOL.md "View frames"). It holds positions by particle index
 * (dense, length n) with a presence mask, and the members of each tile it
 * holds, which is what the next frame's delta chunks are against.
 *
 * It also keeps the frame before (its codes and tile members): a frame
 * with `prior` predicts the members of the tiles held there second order.
 *
 * A frame is decoded completely into spare buffers before anything is
 * swapped in, so refused data (ViewDecodeError) leaves the state as it was.
 */
import { checkBits, MAX_PREDICTION_GAP } from './frame-layout.js';
import {
  BitReader,
  gather,
  predictionOrder,
  readChunkKind,
  readDeltaCounts,
  readFrameTiles,
  readGaps,
  readIndices,
  readLocal,
  readMoves,
  type TilePrediction,
  tileOrigin,
  VIEW_CHUNK,
  ViewDecodeError,
} from './view-codec.js';
import { childTiles, MAX_VIEW_GRID_BITS, parentTile, tileCount, tileHolds } from './view-grid.js';

/** Largest n a decoder accepts unless told: a lying header must not allocate gigabytes. */
const DEFAULT_MAX_COUNT = 1 << 22;

const isTick = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

/** A frame held: its codes by index, and each tile's members (ascending; first −1: not held). */
interface HeldFrame {
  tick: number;
  g: number;
  codes: Uint16Array;
  members: Uint32Array;
  first: Int32Array;
  count: Uint32Array;
}

const NO_FRAME: HeldFrame = {
  tick: -1,
  g: -1,
  codes: new Uint16Array(0),
  members: new Uint32Array(0),
  first: new Int32Array(0),
  count: new Uint32Array(0),
};

export class ViewDecoder {
  readonly #bits: number;
  readonly #maxCount: number;
  #n = 0;
  /** The frame held, and the one held before it (a `prior` names it). */
  #frame: HeldFrame = NO_FRAME;
  #prior: HeldFrame = NO_FRAME;
  /** The code buffer the next frame is decoded into (neither held frame's). */
  #spare: Uint16Array = new Uint16Array(0);
  #present = new Uint8Array(0);
  #presentCount = 0;
  /** Stamps per index, to refuse a particle listed twice in one frame. */
  #seen = new Uint32Array(0);
  #stamp = 0;

  constructor(bits: number, maxCount = DEFAULT_MAX_COUNT) {
    checkBits(bits);
    this.#bits = bits;
    this.#maxCount = maxCount;
  }

  /** Tick of the frame held; −1 before the first. */
  get tick(): number {
    return this.#frame.tick;
  }

  /** Tick of the frame held before it (what a frame's `prior` must name); −1 if none. */
  get priorTick(): number {
    return this.#prior.tick;
  }

  /** The world's particle count at that tick (indices run below it). */
  get count(): number {
    return this.#n;
  }

  /** Particles held (in subscribed tiles). */
  get presentCount(): number {
    return this.#presentCount;
  }

  /** Interleaved codes by index, 2·count long; meaningful where `present` is 1. Valid until the second-next apply. */
  get positions(): Uint16Array {
    return this.#frame.codes.subarray(0, 2 * this.#n);
  }

  /** 1 for each particle index held, count long. Valid until the next apply. */
  get present(): Uint8Array {
    return this.#present.subarray(0, this.#n);
  }

  /** Tiles held (the tiles of the last frame). */
  get tiles(): number[] {
    const out: number[] = [];
    const { first } = this.#frame;
    for (let t = 0; t < first.length; t++) if (first[t] >= 0) out.push(t);
    return out;
  }

  /** Forgets everything (a whole-world frame replaced the view). */
  reset(): void {
    this.#clearPresent();
    this.#frame = NO_FRAME;
    this.#prior = NO_FRAME;
  }

  /**
   * Applies a view frame: `base` is the tick its delta chunks are against
   * (undefined if none), `prior` the tick before it their second-order
   * members are predicted from (undefined if none).
   */
  apply(tick: number, base: number | undefined, n: number, data: Uint8Array, prior?: number): void {
    if (!isTick(tick)) this.#fail('badHeader', `view tick ${tick} is not a non-negative integer`);
    if (!Number.isSafeInteger(n) || n < 0 || n > this.#maxCount) {
      this.#fail('badHeader', `view count ${n} is not an integer in [0, ${this.#maxCount}]`);
    }
    if (base !== undefined && (!isTick(base) || base >= tick)) {
      this.#fail('badHeader', `view tick ${tick} does not follow its base ${base}`);
    }
    if (prior !== undefined) {
      if (base === undefined || !isTick(prior) || prior >= base) {
        this.#fail('badHeader', `view prior ${prior} does not come before its base ${base}`);
      }
      if (base - prior > MAX_PREDICTION_GAP || tick - base > MAX_PREDICTION_GAP) {
        this.#fail(
          'badHeader',
          `prediction gaps ${base - prior}/${tick - base} exceed ${MAX_PREDICTION_GAP} ticks`,
        );
      }
      if (prior !== this.#prior.tick) {
        this.#fail(
          'priorMismatch',
          `view prior ${prior}, but the decoder held tick ${this.#prior.tick} before its newest`,
        );
      }
    }
    const bits = this.#bits;
    const r = new BitReader(data);
    const g = r.field(8);
    const maxG = Math.min(bits - 1, MAX_VIEW_GRID_BITS);
    if (g > maxG) this.#fail('badLayout', `grid bits ${g} above ${maxG}`);
    const tiles = tileCount(g);
    const coarse = 1 << (2 * g);
    // The frame's tiles are coded against those held at base: it must hold base.
    if (base !== undefined && (base !== this.#frame.tick || g !== this.#frame.g)) {
      this.#fail(
        'baseMismatch',
        `view frame against tick ${base} (grid ${g}), but the decoder holds tick ` +
          `${this.#frame.tick} (grid ${this.#frame.g})`,
      );
    }
    const frameTiles = readFrameTiles(r, base === undefined ? [] : this.tiles, tiles);
    const codes = this.#grow(n);
    const members = new Uint32Array(n);
    const first = new Int32Array(tiles).fill(-1);
    const count = new Uint32Array(tiles);
    const stamp = ++this.#stamp;
    let held = 0;
    for (const tile of frameTiles) {
      const flags = readChunkKind(r);
      const level = tile < coarse ? g : g + 1;
      const local = tile < coarse ? tile : tile - coarse;
      const origin = tileOrigin(local, level, bits);
      let list: Uint32Array;
      let subset: Uint16Array;
      if (flags === VIEW_CHUNK.key) {
        list = readIndices(r, r.gamma(), n);
        subset = new Uint16Array(2 * list.length);
        readLocal(r, list.length, origin.width, origin.x, origin.y, subset, 0);
      } else {
        ({ list, subset } = this.#readDelta(r, tile, g, { tick, base, prior }, n, flags, origin));
      }
      // Members must be unique, in this tile, and (for the next delta) ascending.
      const order = ascendingOrder(list);
      const shift = origin.width;
      first[tile] = held;
      count[tile] = list.length;
      for (const k of order) {
        const i = list[k];
        if (this.#seen[i] === stamp) this.#fail('badLayout', `particle ${i} is in two chunks`);
        this.#seen[i] = stamp;
        const x = subset[2 * k];
        const y = subset[2 * k + 1];
        if (((y >>> shift) << level) + (x >>> shift) !== local) {
          this.#fail('valueOutOfRange', `particle ${i} at (${x}, ${y}) is not in tile ${tile}`);
        }
        codes[2 * i] = x;
        codes[2 * i + 1] = y;
        members[held++] = i;
      }
    }
    if (r.left >= 8) {
      this.#fail('overlong', `view data has ${data.length} bytes, the layout ends at bit ${r.pos}`);
    }
    if (r.field(r.left) !== 0) this.#fail('badBlock', 'non-zero padding after the last chunk');
    // Commit: nothing below throws. The frame held becomes the prior; the
    // old prior's codes are the next spare.
    this.#clearPresent();
    if (this.#present.length < n)
      this.#present = new Uint8Array(Math.max(n, 2 * this.#present.length));
    for (let k = 0; k < held; k++) this.#present[members[k]] = 1;
    this.#presentCount = held;
    this.#spare = this.#prior.codes;
    this.#prior = this.#frame;
    this.#frame = { tick, g, codes, members: members.subarray(0, held), first, count };
    this.#n = n;
  }

  #readDelta(
    r: BitReader,
    tile: number,
    g: number,
    ticks: { tick: number; base: number | undefined; prior: number | undefined },
    n: number,
    flags: number,
    origin: ReturnType<typeof tileOrigin>,
  ): { list: Uint32Array; subset: Uint16Array } {
    const { base } = ticks;
    const before = heldMembers(this.#frame, tile, g, this.#bits);
    if (base === undefined || base !== this.#frame.tick || !before) {
      this.#fail(
        'baseMismatch',
        `delta chunk for tile ${tile} against tick ${base}, but the decoder holds ` +
          (before ? `tick ${this.#frame.tick}` : 'no such tile'),
      );
    }
    if (n < this.#n) this.#fail('badHeader', `view count ${n} is below the base count ${this.#n}`);
    const changed = flags === VIEW_CHUNK.deltaChanged || flags === VIEW_CHUNK.deltaChangedZeroK;
    const zeroK = flags === VIEW_CHUNK.deltaZeroK || flags === VIEW_CHUNK.deltaChangedZeroK;
    const counts = changed ? readDeltaCounts(r) : { left: 0, entered: 0 };
    if (changed && counts.left + counts.entered === 0) {
      this.#fail(
        'badLayout',
        `tile ${tile} says its members changed, with none leaving or entering`,
      );
    }
    const left = readGaps(r, counts.left, before.length, 'rank');
    const entered = readIndices(r, counts.entered, n);
    const s = before.length - left.length;
    const stayed = new Uint32Array(s);
    for (let k = 0, l = 0, at = 0; k < before.length; k++) {
      if (l < left.length && left[l] === k) l++;
      else stayed[at++] = before[k];
    }
    // Second order when the frame names a prior and the decoder held the
    // tile there too: the members that were in it then are predicted.
    const priorMembers =
      ticks.prior === undefined ? undefined : heldMembers(this.#prior, tile, g, this.#bits);
    const { order, predicted } = predictionOrder(stayed, priorMembers);
    const prediction: TilePrediction | undefined = priorMembers && {
      priorSubset: gather(this.#prior.codes, order, predicted),
      predicted,
      g0: base - ticks.prior!,
      g1: ticks.tick - base,
    };
    const list = new Uint32Array(s + entered.length);
    list.set(order);
    list.set(entered, s);
    const subset = new Uint16Array(2 * list.length);
    readMoves(r, gather(this.#frame.codes, order), s, this.#bits, prediction, zeroK, subset);
    readLocal(r, entered.length, origin.width, origin.x, origin.y, subset, s);
    return { list, subset };
  }

  /** The spare code buffer, at least 2n long, and the duplicate stamps n long. */
  #grow(n: number): Uint16Array {
    if (this.#spare.length < 2 * n) {
      this.#spare = new Uint16Array(Math.max(2 * n, 2 * this.#spare.length));
    }
    if (this.#seen.length < n) this.#seen = new Uint32Array(Math.max(n, 2 * this.#seen.length));
    return this.#spare;
  }

  #clearPresent(): void {
    const { members } = this.#frame;
    for (let k = 0; k < this.#presentCount; k++) this.#present[members[k]] = 0;
    this.#presentCount = 0;
  }

  #fail(code: ConstructorParameters<typeof ViewDecodeError>[0], message: string): never {
    throw new ViewDecodeError(code, message);
  }
}

/**
 * The members of `tile` at `frame`, ascending, if that frame held them: the
 * tile itself, its coarse parent (those of the parent in it), or all four
 * fine children (their members together). Undefined when it did not, or
 * when its grid differs.
 */
function heldMembers(
  frame: HeldFrame,
  tile: number,
  g: number,
  bits: number,
): Uint32Array | undefined {
  if (frame.g !== g) return undefined;
  const own = listOf(frame, tile);
  if (own) return own;
  const parent = parentTile(tile, g);
  if (parent >= 0) {
    const all = listOf(frame, parent);
    if (!all) return undefined;
    const { codes } = frame;
    return all.filter((i) => tileHolds(tile, codes[2 * i], codes[2 * i + 1], bits, g));
  }
  const children = childTiles(tile, g).map((child) => listOf(frame, child));
  if (children.some((list) => !list)) return undefined;
  const merged = new Uint32Array(children.reduce((sum, list) => sum + list!.length, 0));
  let at = 0;
  for (const list of children) {
    merged.set(list!, at);
    at += list!.length;
  }
  return merged.sort();
}

function listOf(frame: HeldFrame, tile: number): Uint32Array | undefined {
  const from = frame.first[tile];
  return from >= 0 ? frame.members.subarray(from, from + frame.count[tile]) : undefined;
}

/** Positions of `list` in ascending order of its values (stayed then entered are each ascending). */
function ascendingOrder(list: Uint32Array): number[] {
  const order = Array.from(list.keys());
  // Mostly ascending already (no first-order member, none entered): skip the sort.
  for (let k = 1; k < list.length; k++) {
    if (list[k] < list[k - 1]) return order.sort((a, b) => list[a] - list[b]);
  }
  return order;
}
