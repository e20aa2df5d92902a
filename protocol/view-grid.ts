/**
 * The tile grid of viewport subscriptions: which tiles a particle is in,
 * which tiles cover a rectangle of the torus, and a per-frame index of
 * every tile's members. Isomorphic: no imports of ours, no node: modules.
 *
 * Two levels over the quantized codes: coarse tiles, 2^g × 2^g, and fine
 * tiles, 2^(g+1) × 2^(g+1), each a quarter of a coarse one. A particle's
 * tile at level L is the top L bits of its x and y codes (row-major
 * `(y >> s) << L | (x >> s)`, s = bits − L), so server and client agree on
 * it from the codes alone. Tile ids of a frame: coarse tiles are
 * [0, 4^g), fine tiles follow at 4^g + their fine id. A view is covered by
 * the coarse tiles wholly inside it and fine tiles for the rest, so the
 * cover hugs the view's edge (a fine tile's margin) while the inside costs
 * a quarter as many chunks (each chunk has a few bytes of its own).
 */
/**
 * log2 of the coarse tiles per side the server uses: 16 × 16 coarse tiles
 * (62.5 units in a 1000-unit world) and 32 × 32 fine ones. Why: measured
 * with bench:view (docs/BENCHMARKS.md, "Viewport subscriptions"): one level
 * of 16 per side covers a 316-unit view with 14% of the world, one of 32
 * with 12% but ~110 chunks of a few bytes' overhead each; two levels cover
 * it with 12% in ~70 chunks, the fewest bytes.
 */
export const VIEW_GRID_BITS = 4;
/** Largest g a frame may name: fine tiles 2^8 per side. */
export const MAX_VIEW_GRID_BITS = 7;

/** A viewport on the torus, world units: x, y in [0, worldSize), w, h in (0, worldSize]. */
export interface ViewRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The coarse grid bits used for `bits`-bit codes: a fine tile holds at least one code. */
export const gridBitsFor = (bits: number, wanted = VIEW_GRID_BITS): number =>
  Math.min(wanted, bits - 1, MAX_VIEW_GRID_BITS);

/** Tile ids of a frame with coarse grid bits g: coarse and fine together. */
export const tileCount = (g: number): number => (1 << (2 * g)) + (1 << (2 * g + 2));

/** The tile at `level` bits (g or g + 1) of the particle with codes (x, y), within its level. */
export const tileOf = (x: number, y: number, bits: number, level: number): number =>
  ((y >>> (bits - level)) << level) | (x >>> (bits - level));

/** Whether tile `id` (of a frame with coarse bits g) holds the particle with codes (x, y). */
export function tileHolds(id: number, x: number, y: number, bits: number, g: number): boolean {
  const coarse = 1 << (2 * g);
  return id < coarse ? tileOf(x, y, bits, g) === id : tileOf(x, y, bits, g + 1) === id - coarse;
}

/** The coarse tile holding fine tile `id`; −1 for a coarse tile. */
export function parentTile(id: number, g: number): number {
  const coarse = 1 << (2 * g);
  if (id < coarse) return -1;
  const local = id - coarse;
  const fx = local & ((1 << (g + 1)) - 1);
  const fy = local >>> (g + 1);
  return ((fy >>> 1) << g) | (fx >>> 1);
}

/** The four fine tiles of coarse tile `id`, ascending; [] for a fine tile. */
export function childTiles(id: number, g: number): number[] {
  const coarse = 1 << (2 * g);
  if (id >= coarse) return [];
  const cx = id & ((1 << g) - 1);
  const cy = id >>> g;
  const fine = (fx: number, fy: number) => coarse + ((fy << (g + 1)) | fx);
  return [
    fine(2 * cx, 2 * cy),
    fine(2 * cx + 1, 2 * cy),
    fine(2 * cx, 2 * cy + 1),
    fine(2 * cx + 1, 2 * cy + 1),
  ];
}

/**
 * Whether a client whose last frame held the tiles `held` holds the
 * particles of tile `id` at that frame: it held the tile, its coarse parent,
 * or all four of its fine children. Such a tile is sent as a delta chunk.
 */
export function holdsTile(held: { has(tile: number): boolean }, id: number, g: number): boolean {
  if (held.has(id)) return true;
  const parent = parentTile(id, g);
  if (parent >= 0) return held.has(parent);
  return childTiles(id, g).every((child) => held.has(child));
}

/**
 * The tiles (ascending ids) that cover `rect` on the torus, the seam
 * included: fine tiles along its edge, coarse tiles wholly inside it.
 */
export function tileCover(rect: ViewRect, worldSize: number, g: number): number[] {
  const fine = 1 << (g + 1);
  const cols = spanTiles(rect.x, rect.w, worldSize, fine);
  const rows = spanTiles(rect.y, rect.h, worldSize, fine);
  const coarseBase = 1 << (2 * g);
  const tiles = new Set<number>();
  for (const row of rows) {
    for (const col of cols) {
      tiles.add(
        row.inside && col.inside
          ? ((row.tile >> 1) << g) | (col.tile >> 1)
          : coarseBase + ((row.tile << (g + 1)) | col.tile),
      );
    }
  }
  return [...tiles].sort((a, b) => a - b);
}

/**
 * The fine columns (or rows) that [start, start + length] touches, wrapped
 * and unique, each with whether its coarse column lies wholly inside.
 */
function spanTiles(
  start: number,
  length: number,
  worldSize: number,
  side: number,
): { tile: number; inside: boolean }[] {
  const size = worldSize / side;
  const first = Math.floor(start / size);
  const last = Math.floor((start + length) / size);
  if (last - first + 1 >= side) {
    return Array.from({ length: side }, (_, tile) => ({ tile, inside: true }));
  }
  const out: { tile: number; inside: boolean }[] = [];
  for (let t = first; t <= last; t++) {
    const coarse = Math.floor(t / 2);
    const inside = 2 * coarse * size >= start && 2 * (coarse + 1) * size <= start + length;
    out.push({ tile: ((t % side) + side) % side, inside });
  }
  return out;
}

/** Every tile's members at one tick: a counting sort of particle indices by tile. */
export interface TileIndex {
  /** Tile t's members are members[start[t] .. start[t + 1]), ascending. */
  start: Uint32Array;
  members: Uint32Array;
}

/**
 * Builds the tile index of `count` particles (interleaved codes), both
 * levels: O(count + tiles). Each particle is in one coarse and one fine tile.
 */
export function buildTileIndex(
  positions: Uint16Array,
  count: number,
  bits: number,
  g: number,
): TileIndex {
  const tiles = tileCount(g);
  const coarseBase = 1 << (2 * g);
  const start = new Uint32Array(tiles + 1);
  const fineOf = new Uint32Array(count);
  const shift = bits - g - 1;
  const f = g + 1;
  for (let i = 0; i < count; i++) {
    const fx = positions[2 * i] >>> shift;
    const fy = positions[2 * i + 1] >>> shift;
    fineOf[i] = (fy << f) | fx;
    start[(((fy >>> 1) << g) | (fx >>> 1)) + 1]++;
    start[coarseBase + fineOf[i] + 1]++;
  }
  for (let t = 0; t < tiles; t++) start[t + 1] += start[t];
  const fill = start.slice(0, tiles);
  const members = new Uint32Array(2 * count);
  // Ascending i keeps each tile's members ascending: the codec relies on it.
  for (let i = 0; i < count; i++) {
    const fine = fineOf[i];
    const fx = fine & ((1 << f) - 1);
    const fy = fine >>> f;
    members[fill[((fy >>> 1) << g) | (fx >>> 1)]++] = i;
    members[fill[coarseBase + fine]++] = i;
  }
  return { start, members };
}
