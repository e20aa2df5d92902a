/**
 * ViewDecoder: what a client keeps per connection to rebuild the particles
 * of its subscribed tiles from `view` frames (layout in view-codec.ts,
 * docs/PROTOCOL.md "View frames"). It holds positions by particle index
 * (dense, length n) with a presence mask, and the members of each tile it
 * holds, which is what the next frame's delta chunks are against.
 *
 * A frame is decoded completely into spare buffers before anything is
 * swapped in, so refused data (ViewDecodeError) leaves the state as it was.
 */
import { checkBits } from './frame-layout.js';
import {
  ByteReader,
  readDeltaCounts,
  readGaps,
  readLocal,
  readSubsetDelta,
  tileOrigin,
  VIEW_CHUNK,
  ViewDecodeError,
} from './view-codec.js';
import { childTiles, MAX_VIEW_GRID_BITS, parentTile, tileCount, tileHolds } from './view-grid.js';

/** Largest n a decoder accepts unless told: a lying header must not allocate gigabytes. */
const DEFAULT_MAX_COUNT = 1 << 22;

const isTick = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

export class ViewDecoder {
  readonly #bits: number;
  readonly #maxCount: number;
  #tick = -1;
  #n = 0;
  #g = -1;
  #codes: Uint16Array = new Uint16Array(0);
  #spare: Uint16Array = new Uint16Array(0);
  #present = new Uint8Array(0);
  /** Held tiles' members, ascending within a tile; tile t's are at first[t] (−1: not held). */
  #members = new Uint32Array(0);
  #first = new Int32Array(0);
  #count = new Uint32Array(0);
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
    return this.#tick;
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
    return this.#codes.subarray(0, 2 * this.#n);
  }

  /** 1 for each particle index held, count long. Valid until the next apply. */
  get present(): Uint8Array {
    return this.#present.subarray(0, this.#n);
  }

  /** Tiles held (the tiles of the last frame). */
  get tiles(): number[] {
    const out: number[] = [];
    for (let t = 0; t < this.#first.length; t++) if (this.#first[t] >= 0) out.push(t);
    return out;
  }

  /** Forgets everything (a whole-world frame replaced the view). */
  reset(): void {
    this.#clearPresent();
    this.#tick = -1;
    this.#g = -1;
    this.#first.fill(-1);
  }

  /** Applies a view frame: `base` is the tick its delta chunks are against (undefined if none). */
  apply(tick: number, base: number | undefined, n: number, data: Uint8Array): void {
    if (!isTick(tick)) this.#fail('badHeader', `view tick ${tick} is not a non-negative integer`);
    if (!Number.isSafeInteger(n) || n < 0 || n > this.#maxCount) {
      this.#fail('badHeader', `view count ${n} is not an integer in [0, ${this.#maxCount}]`);
    }
    if (base !== undefined && (!isTick(base) || base >= tick)) {
      this.#fail('badHeader', `view tick ${tick} does not follow its base ${base}`);
    }
    const bits = this.#bits;
    const r = new ByteReader(data);
    const g = r.u8();
    const maxG = Math.min(bits - 1, MAX_VIEW_GRID_BITS);
    if (g > maxG) this.#fail('badLayout', `grid bits ${g} above ${maxG}`);
    const tiles = tileCount(g);
    const coarse = 1 << (2 * g);
    const chunks = r.varint();
    if (chunks > tiles) this.#fail('badLayout', `${chunks} chunks for ${tiles} tiles`);
    const codes = this.#grow(n);
    const members = new Uint32Array(n);
    const first = new Int32Array(tiles).fill(-1);
    const count = new Uint32Array(tiles);
    const stamp = ++this.#stamp;
    let held = 0;
    let tile = -1;
    for (let c = 0; c < chunks; c++) {
      const h = r.varint();
      const flags = h % 4;
      tile += Math.floor(h / 4) + 1;
      if (tile >= tiles) this.#fail('badLayout', `tile ${tile} is past the ${tiles}-tile grid`);
      const level = tile < coarse ? g : g + 1;
      const local = tile < coarse ? tile : tile - coarse;
      const origin = tileOrigin(local, level, bits);
      let list: Uint32Array;
      let subset: Uint16Array;
      if (flags === VIEW_CHUNK.key) {
        list = readGaps(r, r.varint(), n, 'index');
        subset = new Uint16Array(2 * list.length);
        readLocal(r, list.length, origin.width, origin.x, origin.y, subset, 0);
      } else if (flags === VIEW_CHUNK.delta || flags === VIEW_CHUNK.deltaChanged) {
        ({ list, subset } = this.#readDelta(r, tile, g, base, n, flags, origin));
      } else {
        this.#fail('badLayout', `chunk flags ${flags} for tile ${tile}`);
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
    if (r.p !== data.length) {
      this.#fail('overlong', `view data has ${data.length} bytes, the layout ends at ${r.p}`);
    }
    // Commit: nothing below throws.
    this.#clearPresent();
    this.#spare = this.#codes;
    this.#codes = codes;
    if (this.#present.length < n)
      this.#present = new Uint8Array(Math.max(n, 2 * this.#present.length));
    for (let k = 0; k < held; k++) this.#present[members[k]] = 1;
    this.#presentCount = held;
    this.#members = members;
    this.#first = first;
    this.#count = count;
    this.#tick = tick;
    this.#n = n;
    this.#g = g;
  }

  #readDelta(
    r: ByteReader,
    tile: number,
    g: number,
    base: number | undefined,
    n: number,
    flags: number,
    origin: ReturnType<typeof tileOrigin>,
  ): { list: Uint32Array; subset: Uint16Array } {
    const before = g === this.#g ? this.#heldMembers(tile, g) : undefined;
    if (base === undefined || base !== this.#tick || !before) {
      this.#fail(
        'baseMismatch',
        `delta chunk for tile ${tile} against tick ${base}, but the decoder holds ` +
          (before ? `tick ${this.#tick}` : 'no such tile'),
      );
    }
    if (n < this.#n) this.#fail('badHeader', `view count ${n} is below the base count ${this.#n}`);
    const counts = flags === VIEW_CHUNK.deltaChanged ? readDeltaCounts(r) : { left: 0, entered: 0 };
    if (flags === VIEW_CHUNK.deltaChanged && counts.left + counts.entered === 0) {
      this.#fail(
        'badLayout',
        `tile ${tile} says its members changed, with none leaving or entering`,
      );
    }
    const left = readGaps(r, counts.left, before.length, 'rank');
    const entered = readGaps(r, counts.entered, n, 'index');
    const s = before.length - left.length;
    const list = new Uint32Array(s + entered.length);
    const prev = new Uint16Array(2 * s);
    const codes = this.#codes;
    for (let k = 0, l = 0, at = 0; k < before.length; k++) {
      if (l < left.length && left[l] === k) {
        l++;
        continue;
      }
      const i = before[k];
      prev[2 * at] = codes[2 * i];
      prev[2 * at + 1] = codes[2 * i + 1];
      list[at++] = i;
    }
    list.set(entered, s);
    const subset = new Uint16Array(2 * list.length);
    readSubsetDelta(r, prev, s, this.#bits, subset);
    readLocal(r, entered.length, origin.width, origin.x, origin.y, subset, s);
    return { list, subset };
  }

  /**
   * The members of `tile` at the held frame, ascending, if that frame held
   * them: the tile itself, its coarse parent (those of the parent in it), or
   * all four fine children (their members together).
   */
  #heldMembers(tile: number, g: number): Uint32Array | undefined {
    const own = this.#list(tile);
    if (own) return own;
    const parent = parentTile(tile, g);
    if (parent >= 0) {
      const all = this.#list(parent);
      if (!all) return undefined;
      const codes = this.#codes;
      return all.filter((i) => tileHolds(tile, codes[2 * i], codes[2 * i + 1], this.#bits, g));
    }
    const children = childTiles(tile, g).map((child) => this.#list(child));
    if (children.some((list) => !list)) return undefined;
    const merged = new Uint32Array(children.reduce((sum, list) => sum + list!.length, 0));
    let at = 0;
    for (const list of children) {
      merged.set(list!, at);
      at += list!.length;
    }
    return merged.sort();
  }

  #list(tile: number): Uint32Array | undefined {
    const from = this.#first[tile];
    return from >= 0 ? this.#members.subarray(from, from + this.#count[tile]) : undefined;
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
    for (let k = 0; k < this.#presentCount; k++) this.#present[this.#members[k]] = 0;
    this.#presentCount = 0;
    this.#members = new Uint32Array(0);
  }

  #fail(code: ConstructorParameters<typeof ViewDecodeError>[0], message: string): never {
    throw new ViewDecodeError(code, message);
  }
}

/** Positions of `list` in ascending order of its values (stayed then entered are each ascending). */
function ascendingOrder(list: Uint32Array): number[] {
  const order = Array.from(list.keys());
  return order.sort((a, b) => list[a] - list[b]);
}
