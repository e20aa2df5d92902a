/**
 * The tile grid of viewport subscriptions: which tile a particle is in,
 * which tiles cover a rectangle of the torus, and a per-frame index of
 * every tile's members. Tiles are 2^g × 2^g over the quantized codes: a
 * particle's tile is the top g bits of its x and y codes (row-major id
 * `(y >> s) << g | (x >> s)` with s = bits − g), so server and client agree
 * on it from the codes alone, with no float rounding between them.
 * Isomorphic: no imports of ours, no node: modules.
 */

/**
 * log2 of the tiles per side the server uses (16 × 16 = 256 tiles). Why 16:
 * bench:view measured 8, 16 and 32 per side (docs/BENCHMARKS.md): smaller
 * tiles cover a view more tightly but cost more per tile (a particle that
 * crosses into another tile is sent whole again, and each tile's delta has
 * its own block headers); 16 was the least bytes for a 10% view.
 */
export const VIEW_GRID_BITS = 4;
/** Largest g a frame may name: 2^8 × 2^8 tiles (ids fit 16 bits). */
export const MAX_VIEW_GRID_BITS = 8;

/** A viewport on the torus, world units: x, y in [0, worldSize), w, h in (0, worldSize]. */
export interface ViewRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The grid bits actually used for `bits`-bit codes: no finer than one code per tile. */
export const gridBitsFor = (bits: number, wanted = VIEW_GRID_BITS): number =>
  Math.min(wanted, bits, MAX_VIEW_GRID_BITS);

/** The tile of the particle with codes (x, y). */
export const tileOf = (x: number, y: number, bits: number, g: number): number =>
  ((y >>> (bits - g)) << g) | (x >>> (bits - g));

/**
 * The tiles (sorted ids) that cover `rect` on the torus, including the
 * tiles it reaches across the seam. A span as wide as the world covers
 * every column (or row).
 */
export function tileCover(rect: ViewRect, worldSize: number, g: number): number[] {
  const side = 1 << g;
  const cols = spanTiles(rect.x, rect.w, worldSize, side);
  const rows = spanTiles(rect.y, rect.h, worldSize, side);
  const tiles: number[] = [];
  for (const row of rows) for (const col of cols) tiles.push((row << g) | col);
  return tiles.sort((a, b) => a - b);
}

/** The tile columns (or rows) that [start, start + length] touches, wrapped, unique. */
function spanTiles(start: number, length: number, worldSize: number, side: number): number[] {
  const size = worldSize / side;
  const first = Math.floor(start / size);
  const last = Math.floor((start + length) / size);
  if (last - first + 1 >= side) return Array.from({ length: side }, (_, i) => i);
  const out: number[] = [];
  for (let t = first; t <= last; t++) out.push(((t % side) + side) % side);
  return out;
}

/** Every tile's members at one tick: a counting sort of particle indices by tile. */
export interface TileIndex {
  /** Tile t's members are members[start[t] .. start[t + 1]), ascending. */
  start: Uint32Array;
  members: Uint32Array;
}

/** Builds the tile index of `count` particles (interleaved codes): O(count + tiles). */
export function buildTileIndex(
  positions: Uint16Array,
  count: number,
  bits: number,
  g: number,
): TileIndex {
  const tiles = 1 << (2 * g);
  const start = new Uint32Array(tiles + 1);
  const tileOfParticle = new Uint16Array(count);
  const shift = bits - g;
  for (let i = 0; i < count; i++) {
    const t = ((positions[2 * i + 1] >>> shift) << g) | (positions[2 * i] >>> shift);
    tileOfParticle[i] = t;
    start[t + 1]++;
  }
  for (let t = 0; t < tiles; t++) start[t + 1] += start[t];
  const fill = start.slice(0, tiles);
  const members = new Uint32Array(count);
  // Ascending i keeps each tile's members ascending: the codec relies on it.
  for (let i = 0; i < count; i++) members[fill[tileOfParticle[i]]++] = i;
  return { start, members };
}
