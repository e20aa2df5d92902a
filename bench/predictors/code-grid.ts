/**
 * Neighbours among quantized positions (codes on a torus of 2**bits per
 * side), found through a uniform grid of cells. The predictors that use
 * neighbours see only what a client holds: the codes of a frame it has.
 */

/** Cells are 2**CELL_SHIFT codes on a side: 256 codes, 15.6 units of a 1000-unit, 14-bit world. */
const CELL_SHIFT = 8;

export class CodeGrid {
  readonly #codes: Uint16Array;
  readonly #side: number;
  readonly #cellsPerSide: number;
  /** First particle of each cell, and the next particle in the same cell (-1 ends a list). */
  readonly #head: Int32Array;
  readonly #next: Int32Array;

  constructor(codes: Uint16Array, count: number, bits: number) {
    this.#codes = codes;
    this.#side = 1 << bits;
    this.#cellsPerSide = Math.max(1, this.#side >> CELL_SHIFT);
    this.#head = new Int32Array(this.#cellsPerSide ** 2).fill(-1);
    this.#next = new Int32Array(count);
    // Filled from the back, so every cell lists its particles in index order.
    for (let i = count - 1; i >= 0; i--) {
      const cell = this.#cellOf(i);
      this.#next[i] = this.#head[cell];
      this.#head[cell] = i;
    }
  }

  /** Wrapped (signed, shortest way round the torus) difference of two codes. */
  #wrap(d: number): number {
    const half = this.#side >> 1;
    return ((((d + half) % this.#side) + this.#side) % this.#side) - half;
  }

  /**
   * The particle of lower index than i nearest to it, or -1 if none: the
   * neighbour a decoder that decodes in index order has already decoded.
   * Searches rings of cells outwards and stops once no unsearched cell can
   * hold anything nearer.
   */
  nearestBefore(i: number): number {
    const cx = this.#codes[2 * i] >> CELL_SHIFT;
    const cy = this.#codes[2 * i + 1] >> CELL_SHIFT;
    let best = -1;
    let bestSquared = Number.POSITIVE_INFINITY;
    const maxRing = this.#cellsPerSide >> 1;
    for (let ring = 0; ring <= maxRing; ring++) {
      for (let dx = -ring; dx <= ring; dx++)
        for (let dy = -ring; dy <= ring; dy++) {
          if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue;
          for (
            let j = this.#head[this.#cellAt(cx + dx, cy + dy)];
            j >= 0 && j < i;
            j = this.#next[j]
          ) {
            const d = this.#squaredDistance(i, j);
            if (d < bestSquared) {
              bestSquared = d;
              best = j;
            }
          }
        }
      // Cells in ring + 1 lie at least ring cell sides away.
      if (bestSquared <= (ring << CELL_SHIFT) ** 2) break;
    }
    return best;
  }

  /** Calls visit(j) for every other particle within `radius` codes of i. */
  forEachWithin(i: number, radius: number, visit: (j: number) => void): void {
    const cx = this.#codes[2 * i] >> CELL_SHIFT;
    const cy = this.#codes[2 * i + 1] >> CELL_SHIFT;
    // At most half the grid each way, so no cell is visited twice.
    const rings = Math.min((this.#cellsPerSide - 1) >> 1, Math.ceil(radius / (1 << CELL_SHIFT)));
    for (let dx = -rings; dx <= rings; dx++)
      for (let dy = -rings; dy <= rings; dy++)
        for (let j = this.#head[this.#cellAt(cx + dx, cy + dy)]; j >= 0; j = this.#next[j])
          if (j !== i && this.#squaredDistance(i, j) < radius * radius) visit(j);
  }

  #cellOf(i: number): number {
    return this.#cellAt(this.#codes[2 * i] >> CELL_SHIFT, this.#codes[2 * i + 1] >> CELL_SHIFT);
  }

  #cellAt(cx: number, cy: number): number {
    const n = this.#cellsPerSide;
    return (((cx % n) + n) % n) * n + (((cy % n) + n) % n);
  }

  #squaredDistance(i: number, j: number): number {
    const dx = this.#wrap(this.#codes[2 * j] - this.#codes[2 * i]);
    const dy = this.#wrap(this.#codes[2 * j + 1] - this.#codes[2 * i + 1]);
    return dx * dx + dy * dy;
  }
}
