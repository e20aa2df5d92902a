/**
 * Uniform-grid spatial hash on a square torus. Owns the cell layout, the
 * per-step counting sort of particles into cells, and the description of a
 * neighbourhood as contiguous index ranges with wrap shifts.
 *
 * Layout: `cols * cols` square cells of side `cellSize >= minCellSize`, cell
 * index = row * cols + col. After `rebuild`, the particles of cell c are
 * `sortedIndex[cellStart[c] .. cellStart[c + 1])`, in increasing particle
 * index (the sort is stable, which keeps the world deterministic).
 *
 * Neighbourhoods:
 * - the 3x3 block around a cell holds every point within cellSize of any
 *   point of the cell (`neighbourRanges`);
 * - the 2x2 "quadrant" block made of a point's cell and the neighbours on
 *   the sides the point is nearest to holds every point within cellSize / 2
 *   of it (`quadrantRanges`): 4/9 of the candidates, for a crowded cell that
 *   can make do with half the radius.
 *
 * Why ranges: cells of one row are adjacent in the sorted order, so a
 * block's cells in one row form one contiguous range unless the row wraps
 * around the seam, in which case they form two. Each range carries a
 * constant (shiftX, shiftY), 0 or +-size, that moves its particles to their
 * image next to the cell, so the kernel's candidate loop needs no per-pair
 * wrap branch.
 *
 * Everything is preallocated for `maxParticles`; rebuild allocates nothing.
 * Isomorphic: no imports.
 *
 * The wasm kernel (kernel/boids-kernel.ts) is a port of this file's step
 * (its neighbour sums in f32 SIMD, so not the same bits): a change of
 * behaviour here is made there too; test/unit/lobbies/world/
 * wasm-kernel.test.ts holds the two within rounding of each other.
 */

/**
 * A 3x3 block needs 3 distinct columns and rows; fewer would visit a cell
 * twice (and see two images of one particle).
 */
const MIN_COLS = 3;

/**
 * The cell side is kept strictly above minCellSize by this relative margin so
 * that float rounding of `x * invCellSize` can never put a particle within
 * the radius one cell too far.
 */
const CELL_MARGIN = 1e-6;

/** Most ranges a block can produce: 3 rows, each split in two by the seam. */
export const MAX_NEIGHBOUR_RANGES = 6;

export class SpatialGrid {
  readonly size: number;
  readonly cols: number;
  readonly cellSize: number;
  /** Number of cells, cols * cols. */
  readonly cells: number;
  readonly maxParticles: number;
  /** Length cells + 1; prefix sums of cellCount. */
  readonly cellStart: Int32Array;
  /** Length cells; particles per cell at the last rebuild. */
  readonly cellCount: Int32Array;
  /** Length maxParticles; particle indices in cell order, valid for [0, count). */
  readonly sortedIndex: Int32Array;
  /** Length maxParticles; the cell of each particle at the last rebuild. */
  readonly particleCell: Int32Array;
  readonly #invCellSize: number;
  /** Scatter cursors of the counting sort (one per cell). */
  readonly #fill: Int32Array;
  #count = 0;

  /**
   * @throws RangeError when the world is too small for 3 cells of
   *   minCellSize across, or on non-positive / non-finite arguments.
   */
  constructor(size: number, minCellSize: number, maxParticles: number) {
    if (!Number.isFinite(size) || size <= 0) {
      throw new RangeError(`size must be a positive finite number, got ${size}`);
    }
    if (!Number.isFinite(minCellSize) || minCellSize <= 0) {
      throw new RangeError(`minCellSize must be a positive finite number, got ${minCellSize}`);
    }
    if (!Number.isInteger(maxParticles) || maxParticles < 0) {
      throw new RangeError(`maxParticles must be a non-negative integer, got ${maxParticles}`);
    }
    const cols = Math.floor(size / (minCellSize * (1 + CELL_MARGIN)));
    if (cols < MIN_COLS) {
      throw new RangeError(
        `world size ${size} is too small for cells of ${minCellSize}: need at least ` +
          `${MIN_COLS} cells across`,
      );
    }
    this.size = size;
    this.cols = cols;
    this.cellSize = size / cols;
    this.cells = cols * cols;
    this.maxParticles = maxParticles;
    this.#invCellSize = cols / size;
    this.cellStart = new Int32Array(this.cells + 1);
    this.cellCount = new Int32Array(this.cells);
    this.#fill = new Int32Array(this.cells);
    this.sortedIndex = new Int32Array(maxParticles);
    this.particleCell = new Int32Array(maxParticles);
  }

  /** Particles sorted by the last rebuild. */
  get count(): number {
    return this.#count;
  }

  /** Bytes of the grid's arrays (for World.memoryBytes). */
  get bytes(): number {
    const arrays = [this.cellStart, this.cellCount, this.#fill, this.sortedIndex];
    return arrays.reduce((sum, a) => sum + a.byteLength, this.particleCell.byteLength);
  }

  /**
   * The cell holding a point already in [0, size). Rounding can make
   * x * invCellSize reach cols for x just under size: clamp it to the last
   * cell instead of wrapping it to the first, since the point is in the last.
   */
  cellOf(px: number, py: number): number {
    const cols = this.cols;
    let cx = (px * this.#invCellSize) | 0;
    let cy = (py * this.#invCellSize) | 0;
    if (cx >= cols) cx = cols - 1;
    else if (cx < 0) cx = 0;
    if (cy >= cols) cy = cols - 1;
    else if (cy < 0) cy = 0;
    return cy * cols + cx;
  }

  /**
   * Counting sort of particles [0, count) by cell. Positions must be in
   * [0, size) (the world wraps before storing them).
   *
   * @throws RangeError when count exceeds the capacity.
   */
  rebuild(x: Float32Array, y: Float32Array, count: number): void {
    if (count > this.maxParticles || count < 0) {
      throw new RangeError(`count ${count} outside [0, ${this.maxParticles}]`);
    }
    const cols = this.cols;
    const inv = this.#invCellSize;
    const cells = this.cells;
    const cellCount = this.cellCount;
    const cellStart = this.cellStart;
    const fill = this.#fill;
    const particleCell = this.particleCell;
    const sortedIndex = this.sortedIndex;
    const last = cols - 1;

    cellCount.fill(0);
    for (let i = 0; i < count; i++) {
      // Math.min, not a branch: the clamp is almost never needed, and a
      // branch first taken late would cost a deopt mid-game.
      const c = Math.min((y[i] * inv) | 0, last) * cols + Math.min((x[i] * inv) | 0, last);
      particleCell[i] = c;
      cellCount[c]++;
    }
    let sum = 0;
    for (let c = 0; c < cells; c++) {
      cellStart[c] = sum;
      fill[c] = sum;
      sum += cellCount[c];
    }
    cellStart[cells] = sum;
    for (let i = 0; i < count; i++) {
      sortedIndex[fill[particleCell[i]]++] = i;
    }
    this.#count = count;
  }

  /**
   * Describes the 3x3 block around `cell` as ranges over the sorted order:
   * range r is [ranges[2r], ranges[2r+1]) and its particles must be moved by
   * (shifts[2r], shifts[2r+1]) to be the image nearest the cell. Returns the
   * number of ranges (3 to 6). Both arrays need 2 * MAX_NEIGHBOUR_RANGES
   * entries.
   */
  neighbourRanges(cell: number, ranges: Int32Array, shifts: Float64Array): number {
    const cols = this.cols;
    const row = (cell / cols) | 0;
    const col = cell - row * cols;
    if (col > 0 && col < cols - 1 && row > 0 && row < cols - 1) {
      // Away from the seams: three ranges, no shifts (see quadrantRanges).
      const cellStart = this.cellStart;
      let base = cell - cols - 1;
      for (let r = 0; r < 3; r++) {
        ranges[2 * r] = cellStart[base];
        ranges[2 * r + 1] = cellStart[base + 3];
        shifts[2 * r] = 0;
        shifts[2 * r + 1] = 0;
        base += cols;
      }
      return 3;
    }
    let n = 0;
    for (let dr = -1; dr <= 1; dr++) {
      n = this.#rowRanges(row + dr, col - 1, col + 1, n, ranges, shifts);
    }
    return n;
  }

  /**
   * Like neighbourRanges, for the 2x2 block of `cell` and its neighbours on
   * the low-x side if `lowX` (else the high-x side), and the low-y side if
   * `lowY`. For a point in the cell, choosing the sides of the halves it lies
   * in (x < the cell's middle x, and likewise for y) gives a block holding
   * every point within cellSize / 2 of it. Returns 2 to 4 ranges.
   *
   * The caller picks the sides so that this takes no float arguments: the
   * kernel calls it for every steering particle of a crowded cell and may
   * not inline it, and a double argument to a call that is not inlined is
   * boxed, an allocation per call.
   */
  quadrantRanges(
    cell: number,
    lowX: boolean,
    lowY: boolean,
    ranges: Int32Array,
    shifts: Float64Array,
  ): number {
    const cols = this.cols;
    const row = (cell / cols) | 0;
    const col = cell - row * cols;
    const lo = lowX ? col - 1 : col;
    const top = lowY ? row - 1 : row;
    if (lo >= 0 && lo + 1 < cols && top >= 0 && top + 1 < cols) {
      // Away from the seams (almost every call): two ranges, no shifts. This
      // runs for every steering particle of a crowded cell, so it skips the
      // general path's calls and branches.
      const cellStart = this.cellStart;
      const base = top * cols + lo;
      ranges[0] = cellStart[base];
      ranges[1] = cellStart[base + 2];
      ranges[2] = cellStart[base + cols];
      ranges[3] = cellStart[base + cols + 2];
      shifts[0] = 0;
      shifts[1] = 0;
      shifts[2] = 0;
      shifts[3] = 0;
      return 2;
    }
    let n = this.#rowRanges(top, lo, lo + 1, 0, ranges, shifts);
    n = this.#rowRanges(top + 1, lo, lo + 1, n, ranges, shifts);
    return n;
  }

  /**
   * Appends the ranges for columns [lo, hi] (each may be one past the edge)
   * of row r (likewise) at index n; returns the new count.
   */
  #rowRanges(
    r: number,
    lo: number,
    hi: number,
    n: number,
    ranges: Int32Array,
    shifts: Float64Array,
  ): number {
    const cols = this.cols;
    const size = this.size;
    const cellStart = this.cellStart;
    let shiftY = 0;
    if (r < 0) {
      r += cols;
      shiftY = -size;
    } else if (r >= cols) {
      r -= cols;
      shiftY = size;
    }
    const base = r * cols;
    if (lo >= 0 && hi < cols) {
      ranges[2 * n] = cellStart[base + lo];
      ranges[2 * n + 1] = cellStart[base + hi + 1];
      shifts[2 * n] = 0;
      shifts[2 * n + 1] = shiftY;
      return n + 1;
    }
    if (lo < 0) {
      ranges[2 * n] = cellStart[base];
      ranges[2 * n + 1] = cellStart[base + hi + 1];
      shifts[2 * n] = 0;
      shifts[2 * n + 1] = shiftY;
      // The last column sits left of column 0 across the seam.
      ranges[2 * n + 2] = cellStart[base + cols + lo];
      ranges[2 * n + 3] = cellStart[base + cols];
      shifts[2 * n + 2] = -size;
      shifts[2 * n + 3] = shiftY;
      return n + 2;
    }
    ranges[2 * n] = cellStart[base + lo];
    ranges[2 * n + 1] = cellStart[base + cols];
    shifts[2 * n] = 0;
    shifts[2 * n + 1] = shiftY;
    // Column 0 sits right of the last column across the seam.
    ranges[2 * n + 2] = cellStart[base];
    ranges[2 * n + 3] = cellStart[base + hi - cols + 1];
    shifts[2 * n + 2] = size;
    shifts[2 * n + 3] = shiftY;
    return n + 2;
  }

  /**
   * Particle indices strictly within `radius` (toroidal distance) of a point,
   * written to `out`; returns how many. Uses the same blocks as the boids
   * kernel (the quadrant block up to cellSize / 2, else the 3x3 block), so
   * it is what tests compare against brute force. Not for the hot path: it
   * allocates scratch, wraps the point and checks its arguments.
   *
   * @throws RangeError when radius exceeds cellSize or out is too short.
   */
  query(
    px: number,
    py: number,
    radius: number,
    x: Float32Array,
    y: Float32Array,
    out: Int32Array,
  ): number {
    if (!(radius >= 0 && radius <= this.cellSize)) {
      throw new RangeError(`radius must be in [0, ${this.cellSize}], got ${radius}`);
    }
    const size = this.size;
    px -= Math.floor(px / size) * size;
    py -= Math.floor(py / size) * size;
    const ranges = new Int32Array(2 * MAX_NEIGHBOUR_RANGES);
    const shifts = new Float64Array(2 * MAX_NEIGHBOUR_RANGES);
    const cell = this.cellOf(px, py);
    const cols = this.cols;
    const midX = ((cell % cols) + 0.5) * this.cellSize;
    const midY = (((cell / cols) | 0) + 0.5) * this.cellSize;
    const nr =
      radius <= this.cellSize * 0.5
        ? this.quadrantRanges(cell, px < midX, py < midY, ranges, shifts)
        : this.neighbourRanges(cell, ranges, shifts);
    const r2 = radius * radius;
    const sortedIndex = this.sortedIndex;
    let found = 0;
    for (let r = 0; r < nr; r++) {
      const ox = shifts[2 * r] - px;
      const oy = shifts[2 * r + 1] - py;
      for (let k = ranges[2 * r]; k < ranges[2 * r + 1]; k++) {
        const i = sortedIndex[k];
        const dx = x[i] + ox;
        const dy = y[i] + oy;
        if (dx * dx + dy * dy < r2) {
          if (found >= out.length) {
            throw new RangeError(`out (length ${out.length}) is too short`);
          }
          out[found++] = i;
        }
      }
    }
    return found;
  }
}
