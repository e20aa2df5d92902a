/**
 * The world step in AssemblyScript, compiled to WebAssembly by
 * lobbies/world-kernel-build.ts (not by tsc: this file is excluded from
 * the project's tsconfig). Owns the grid rebuild (counting sort into cells)
 * and the boids step on linear memory, a port of spatial-grid.ts `rebuild`,
 * `neighbourRanges`, `quadrantRanges` and boids.ts `stepBoids`.
 *
 * Determinism: the same operations in the same order as the JS kernel, in
 * f64 where JS computes in doubles and rounded to f32 where JS stores into a
 * Float32Array; wasm's +, -, *, /, sqrt, floor and f32.demote are exactly
 * specified IEEE operations, so a step here gives the same bits as the JS
 * kernel's (tested), and the same bits on every engine. The SIMD candidate
 * test keeps that: it does per lane the very f64 operations of the scalar
 * one.
 *
 * Memory: a shared memory per world, laid out by wasm-kernel.ts, imported
 * by one instance on the world's own thread and one on each partition
 * thread (world-partition.ts). Globals are per instance: each configures
 * the layout (with its own scratch: ranges, shifts, neighbour and force
 * lists) and the world's constants once. Nothing is allocated here (stub
 * runtime).
 *
 * A step is `prepare` (grid rebuild, gather into the sorted scratch) then
 * `stepCells` over cells. The cell loop reads only the sorted scratch (the
 * state before the step) and the forces, and writes each particle's new
 * state at its own index: any set of cells may be stepped apart, in any
 * order, on any thread, and give the same bits. `step` is both over all
 * cells, for a world on one thread.
 */

// Layout (byte offsets into memory), set by configure.
let X: usize = 0;
let Y: usize = 0;
let VX: usize = 0;
let VY: usize = 0;
let SX: usize = 0;
let SY: usize = 0;
let SVX: usize = 0;
let SVY: usize = 0;
let SORTED: usize = 0;
let PCELL: usize = 0;
let CELL_START: usize = 0;
let CELL_COUNT: usize = 0;
let FILL: usize = 0;
let RANGES: usize = 0;
let SHIFTS: usize = 0;
let NB: usize = 0;
let FORCE_X: usize = 0;
let FORCE_Y: usize = 0;
let FORCE_SIGN: usize = 0;
let FORCE_LIST: usize = 0;

// The world's constants.
let SIZE: f64 = 0;
let COLS: i32 = 0;
let CELLS: i32 = 0;
let CELL_SIZE: f64 = 0;
let INV_CELL_SIZE: f64 = 0;

// Boid params (see boids.ts BOID_DEFAULTS).
let R2: f64 = 0;
let SEP2: f64 = 0;
let ALIGNMENT: f64 = 0;
let COHESION: f64 = 0;
let SEPARATION: f64 = 0;
let MIN_SPEED: f64 = 0;
let MAX_SPEED: f64 = 0;
let MAX_CANDIDATES: i32 = 0;
let FORCE_RADIUS: f64 = 0;
let FORCE_STRENGTH: f64 = 0;

/** Half the diagonal of a unit square, rounded up (as in boids.ts). */
const HALF_DIAGONAL: f64 = 0.7072;
/** As in boids.ts: bounds the push of two particles at the same spot. */
const SEPARATION_SOFTENING: f64 = 0.01;

export function configureLayout(
  x: usize,
  y: usize,
  vx: usize,
  vy: usize,
  sx: usize,
  sy: usize,
  svx: usize,
  svy: usize,
  sorted: usize,
  pcell: usize,
  cellStart: usize,
  cellCount: usize,
  fill: usize,
  ranges: usize,
  shifts: usize,
  nb: usize,
): void {
  X = x;
  Y = y;
  VX = vx;
  VY = vy;
  SX = sx;
  SY = sy;
  SVX = svx;
  SVY = svy;
  SORTED = sorted;
  PCELL = pcell;
  CELL_START = cellStart;
  CELL_COUNT = cellCount;
  FILL = fill;
  RANGES = ranges;
  SHIFTS = shifts;
  NB = nb;
}

/**
 * Where the forces are: they sit at the end of memory, which grows when
 * they outgrow it. fx, fy, sign are the world's (shared by every thread);
 * list is this instance's scratch.
 */
export function configureForces(fx: usize, fy: usize, sign: usize, list: usize): void {
  FORCE_X = fx;
  FORCE_Y = fy;
  FORCE_SIGN = sign;
  FORCE_LIST = list;
}

export function configureWorld(
  size: f64,
  cols: i32,
  cellSize: f64,
  invCellSize: f64,
  neighbourRadius: f64,
  separationRadius: f64,
  alignment: f64,
  cohesion: f64,
  separation: f64,
  minSpeed: f64,
  maxSpeed: f64,
  maxCandidates: i32,
  forceRadius: f64,
  forceStrength: f64,
): void {
  SIZE = size;
  COLS = cols;
  CELLS = cols * cols;
  CELL_SIZE = cellSize;
  INV_CELL_SIZE = invCellSize;
  R2 = neighbourRadius * neighbourRadius;
  SEP2 = separationRadius * separationRadius;
  ALIGNMENT = alignment;
  COHESION = cohesion;
  SEPARATION = separation;
  MIN_SPEED = minSpeed;
  MAX_SPEED = maxSpeed;
  MAX_CANDIDATES = maxCandidates;
  FORCE_RADIUS = forceRadius;
  FORCE_STRENGTH = forceStrength;
}

function i32At(base: usize, i: i32): i32 {
  return load<i32>(base + ((<usize>i) << 2));
}

function setI32(base: usize, i: i32, v: i32): void {
  store<i32>(base + ((<usize>i) << 2), v);
}

function f32At(base: usize, i: i32): f64 {
  return <f64>load<f32>(base + ((<usize>i) << 2));
}

function setF32(base: usize, i: i32, v: f64): void {
  store<f32>(base + ((<usize>i) << 2), <f32>v);
}

function f64At(base: usize, i: i32): f64 {
  return load<f64>(base + ((<usize>i) << 3));
}

function setF64(base: usize, i: i32, v: f64): void {
  store<f64>(base + ((<usize>i) << 3), v);
}

/** spatial-grid.ts `rebuild`: counting sort of particles [0, count) by cell, stable. */
function rebuildGrid(count: i32): void {
  const cols = COLS;
  const last = cols - 1;
  const inv = INV_CELL_SIZE;
  const cells = CELLS;
  memory.fill(CELL_COUNT, 0, (<usize>cells) << 2);
  for (let i = 0; i < count; i++) {
    const c = min(<i32>(f32At(Y, i) * inv), last) * cols + min(<i32>(f32At(X, i) * inv), last);
    setI32(PCELL, i, c);
    setI32(CELL_COUNT, c, i32At(CELL_COUNT, c) + 1);
  }
  let sum = 0;
  for (let c = 0; c < cells; c++) {
    setI32(CELL_START, c, sum);
    setI32(FILL, c, sum);
    sum += i32At(CELL_COUNT, c);
  }
  setI32(CELL_START, cells, sum);
  for (let i = 0; i < count; i++) {
    const c = i32At(PCELL, i);
    const slot = i32At(FILL, c);
    setI32(FILL, c, slot + 1);
    setI32(SORTED, slot, i);
  }
}

function setRange(n: i32, start: i32, end: i32, shiftX: f64, shiftY: f64): void {
  setI32(RANGES, 2 * n, start);
  setI32(RANGES, 2 * n + 1, end);
  setF64(SHIFTS, 2 * n, shiftX);
  setF64(SHIFTS, 2 * n + 1, shiftY);
}

/** spatial-grid.ts `#rowRanges`: columns [lo, hi] of row r (each may be one past the edge). */
function rowRanges(r: i32, lo: i32, hi: i32, n: i32): i32 {
  const cols = COLS;
  const size = SIZE;
  let shiftY: f64 = 0;
  if (r < 0) {
    r += cols;
    shiftY = -size;
  } else if (r >= cols) {
    r -= cols;
    shiftY = size;
  }
  const base = r * cols;
  if (lo >= 0 && hi < cols) {
    setRange(n, i32At(CELL_START, base + lo), i32At(CELL_START, base + hi + 1), 0, shiftY);
    return n + 1;
  }
  if (lo < 0) {
    setRange(n, i32At(CELL_START, base), i32At(CELL_START, base + hi + 1), 0, shiftY);
    // The last column sits left of column 0 across the seam.
    setRange(
      n + 1,
      i32At(CELL_START, base + cols + lo),
      i32At(CELL_START, base + cols),
      -size,
      shiftY,
    );
    return n + 2;
  }
  setRange(n, i32At(CELL_START, base + lo), i32At(CELL_START, base + cols), 0, shiftY);
  // Column 0 sits right of the last column across the seam.
  setRange(n + 1, i32At(CELL_START, base), i32At(CELL_START, base + hi - cols + 1), size, shiftY);
  return n + 2;
}

/** spatial-grid.ts `neighbourRanges`: the 3x3 block around a cell. */
function neighbourRanges(cell: i32): i32 {
  const cols = COLS;
  const row = cell / cols;
  const col = cell - row * cols;
  if (col > 0 && col < cols - 1 && row > 0 && row < cols - 1) {
    let base = cell - cols - 1;
    for (let r = 0; r < 3; r++) {
      setRange(r, i32At(CELL_START, base), i32At(CELL_START, base + 3), 0, 0);
      base += cols;
    }
    return 3;
  }
  let n = 0;
  for (let dr = -1; dr <= 1; dr++) n = rowRanges(row + dr, col - 1, col + 1, n);
  return n;
}

/** spatial-grid.ts `quadrantRanges`: the 2x2 block on a point's sides. */
function quadrantRanges(cell: i32, lowX: bool, lowY: bool): i32 {
  const cols = COLS;
  const row = cell / cols;
  const col = cell - row * cols;
  const lo = lowX ? col - 1 : col;
  const top = lowY ? row - 1 : row;
  if (lo >= 0 && lo + 1 < cols && top >= 0 && top + 1 < cols) {
    const base = top * cols + lo;
    setRange(0, i32At(CELL_START, base), i32At(CELL_START, base + 2), 0, 0);
    setRange(1, i32At(CELL_START, base + cols), i32At(CELL_START, base + cols + 2), 0, 0);
    return 2;
  }
  const n = rowRanges(top, lo, lo + 1, 0);
  return rowRanges(top + 1, lo, lo + 1, n);
}

/**
 * Pass 1 of the neighbour search for one range with stride 1: writes every
 * candidate's index, advances the cursor only for those within radius2.
 * Two candidates per f64x2 (the same f64 operations as the scalar loop, so
 * the same answer); the odd one out goes through the scalar path.
 */
function candidatesStride1(j: i32, end: i32, ox: f64, oy: f64, radius2: f64, m: i32): i32 {
  const vox = f64x2.splat(ox);
  const voy = f64x2.splat(oy);
  const vr2 = f64x2.splat(radius2);
  for (; j + 1 < end; j += 2) {
    // Two f32 lanes of sx[j..j+1] promoted to f64 (the upper two lanes unused).
    const px2 = f64x2.promote_low_f32x4(v128.load64_zero(SX + ((<usize>j) << 2)));
    const py2 = f64x2.promote_low_f32x4(v128.load64_zero(SY + ((<usize>j) << 2)));
    const dx = f64x2.add(px2, vox);
    const dy = f64x2.add(py2, voy);
    const d2 = f64x2.add(f64x2.mul(dx, dx), f64x2.mul(dy, dy));
    const inside = f64x2.lt(d2, vr2);
    setI32(NB, m, j);
    m += <i32>(i64x2.extract_lane(inside, 0) !== 0);
    setI32(NB, m, j + 1);
    m += <i32>(i64x2.extract_lane(inside, 1) !== 0);
  }
  if (j < end) {
    const dx = f32At(SX, j) + ox;
    const dy = f32At(SY, j) + oy;
    setI32(NB, m, j);
    m += <i32>(dx * dx + dy * dy < radius2);
  }
  return m;
}

/**
 * boids.ts `stepBoids` on one thread: advances particles [0, count) by dt.
 * `interval` is steerIntervalFor(params, count), `tick` the steps taken
 * before this one, `forceCount` the active forces.
 */
export function step(count: i32, dt: f64, tick: f64, interval: i32, forceCount: i32): void {
  prepare(count);
  stepCells(0, CELLS, dt, tick, interval, forceCount);
}

/**
 * The first half of a step: the grid of particles [0, count) and their
 * state gathered in cell order into SX, SY, SVX, SVY, which is all that
 * `stepCells` reads of them.
 */
export function prepare(count: i32): void {
  rebuildGrid(count);
  for (let a = 0; a < count; a++) {
    const i = i32At(SORTED, a);
    store<f32>(SX + ((<usize>a) << 2), load<f32>(X + ((<usize>i) << 2)));
    store<f32>(SY + ((<usize>a) << 2), load<f32>(Y + ((<usize>i) << 2)));
    store<f32>(SVX + ((<usize>a) << 2), load<f32>(VX + ((<usize>i) << 2)));
    store<f32>(SVY + ((<usize>a) << 2), load<f32>(VY + ((<usize>i) << 2)));
  }
}

/**
 * The second half of a step, for cells [cellFrom, cellTo) after `prepare`:
 * boids.ts `stepBoids`'s cell loop, writing the new state of those cells'
 * particles to X, Y, VX, VY. Arguments as for `step`.
 */
export function stepCells(
  cellFrom: i32,
  cellTo: i32,
  dt: f64,
  tick: f64,
  interval: i32,
  forceCount: i32,
): void {
  const size = SIZE;
  const half = size * 0.5;
  const cols = COLS;
  const cellSize = CELL_SIZE;
  const r2 = R2;
  const crowdedR2 = r2 * 0.25;
  const sep2 = SEP2;
  // tick may exceed 2**31 in a long-lived world: take the phase in f64.
  const phase = <i32>(tick - Math.floor(tick / <f64>interval) * <f64>interval);
  const alignW = ALIGNMENT * <f64>interval;
  const cohW = COHESION * <f64>interval;
  const sepW = SEPARATION * <f64>interval;
  const minSpeed = MIN_SPEED;
  const maxSpeed = MAX_SPEED;
  const min2 = minSpeed * minSpeed;
  const max2 = maxSpeed * maxSpeed;
  const cap = MAX_CANDIDATES;
  const nf = forceCount;
  const fr = FORCE_RADIUS;
  const fr2 = fr * fr;
  const invFr = 1 / fr;
  const fStrength = FORCE_STRENGTH;
  const forceReach = fr + cellSize * HALF_DIAGONAL;
  const forceReach2 = forceReach * forceReach;

  for (let c = cellFrom; c < cellTo; c++) {
    const cs = i32At(CELL_START, c);
    const ce = i32At(CELL_START, c + 1);
    if (cs === ce) continue;
    let nr = -1;
    let crowded = false;
    const row = c / cols;
    const midX = (<f64>(c - row * cols) + 0.5) * cellSize;
    const midY = (<f64>row + 0.5) * cellSize;
    let cellForces = 0;
    for (let f = 0; f < nf; f++) {
      let dx = f64At(FORCE_X, f) - midX;
      if (dx > half) dx -= size;
      else if (dx < -half) dx += size;
      let dy = f64At(FORCE_Y, f) - midY;
      if (dy > half) dy -= size;
      else if (dy < -half) dy += size;
      if (dx * dx + dy * dy < forceReach2) setI32(FORCE_LIST, cellForces++, f);
    }

    for (let a = cs; a < ce; a++) {
      const i = i32At(SORTED, a);
      const px = f32At(SX, a);
      const py = f32At(SY, a);
      const pvx = f32At(SVX, a);
      const pvy = f32At(SVY, a);
      let ax: f64 = 0;
      let ay: f64 = 0;

      if (i % interval === phase) {
        if (nr < 0) {
          nr = neighbourRanges(c);
          let total = 0;
          for (let r = 0; r < nr; r++) total += i32At(RANGES, 2 * r + 1) - i32At(RANGES, 2 * r);
          crowded = cap > 0 && total > cap;
        }
        let nq = nr;
        let radius2 = r2;
        let stride = 1;
        if (crowded) {
          nq = quadrantRanges(c, px < midX, py < midY);
          let total = 0;
          for (let r = 0; r < nq; r++) total += i32At(RANGES, 2 * r + 1) - i32At(RANGES, 2 * r);
          radius2 = crowdedR2;
          if (total > cap) stride = (total + cap - 1) / cap;
        }
        let m = 0;
        if (stride === 1) {
          for (let r = 0; r < nq; r++) {
            const ox = f64At(SHIFTS, 2 * r) - px;
            const oy = f64At(SHIFTS, 2 * r + 1) - py;
            m = candidatesStride1(
              i32At(RANGES, 2 * r),
              i32At(RANGES, 2 * r + 1),
              ox,
              oy,
              radius2,
              m,
            );
          }
        } else {
          let skip = a % stride;
          for (let r = 0; r < nq; r++) {
            const end = i32At(RANGES, 2 * r + 1);
            const ox = f64At(SHIFTS, 2 * r) - px;
            const oy = f64At(SHIFTS, 2 * r + 1) - py;
            let j = i32At(RANGES, 2 * r) + skip;
            for (; j < end; j += stride) {
              const dx = f32At(SX, j) + ox;
              const dy = f32At(SY, j) + oy;
              setI32(NB, m, j);
              m += <i32>(dx * dx + dy * dy < radius2);
            }
            skip = j - end;
          }
        }

        let n = 0;
        let sumVx: f64 = 0;
        let sumVy: f64 = 0;
        let sumDx: f64 = 0;
        let sumDy: f64 = 0;
        let sepX: f64 = 0;
        let sepY: f64 = 0;
        for (let q = 0; q < m; q++) {
          const j = i32At(NB, q);
          if (j === a) continue;
          let dx = f32At(SX, j) - px;
          let dy = f32At(SY, j) - py;
          if (dx > half) dx -= size;
          else if (dx < -half) dx += size;
          if (dy > half) dy -= size;
          else if (dy < -half) dy += size;
          n++;
          sumVx += f32At(SVX, j);
          sumVy += f32At(SVY, j);
          sumDx += dx;
          sumDy += dy;
          const d2 = dx * dx + dy * dy;
          const inv = <f64>(d2 < sep2) / (d2 + SEPARATION_SOFTENING);
          sepX -= dx * inv;
          sepY -= dy * inv;
        }
        if (n > 0) {
          const invN = 1 / <f64>n;
          ax = (sumVx * invN - pvx) * alignW + sumDx * invN * cohW + sepX * sepW;
          ay = (sumVy * invN - pvy) * alignW + sumDy * invN * cohW + sepY * sepW;
        }
      }

      for (let q = 0; q < cellForces; q++) {
        const f = i32At(FORCE_LIST, q);
        let dx = f64At(FORCE_X, f) - px;
        if (dx > half) dx -= size;
        else if (dx < -half) dx += size;
        if (dx >= fr || dx <= -fr) continue;
        let dy = f64At(FORCE_Y, f) - py;
        if (dy > half) dy -= size;
        else if (dy < -half) dy += size;
        const d2 = dx * dx + dy * dy;
        if (d2 >= fr2 || d2 === 0) continue;
        const d = Math.sqrt(d2);
        const g = (f64At(FORCE_SIGN, f) * fStrength * (1 - d * invFr)) / d;
        ax += dx * g;
        ay += dy * g;
      }

      let nvx = pvx + ax * dt;
      let nvy = pvy + ay * dt;
      const s2 = nvx * nvx + nvy * nvy;
      if (s2 > max2) {
        const scale = maxSpeed / Math.sqrt(s2);
        nvx *= scale;
        nvy *= scale;
      } else if (s2 < min2) {
        if (s2 > 0) {
          const scale = minSpeed / Math.sqrt(s2);
          nvx *= scale;
          nvy *= scale;
        } else {
          nvx = minSpeed;
          nvy = 0;
        }
      }

      let nx = px + nvx * dt;
      let ny = py + nvy * dt;
      if (nx >= size || nx < 0) nx -= Math.floor(nx / size) * size;
      if (ny >= size || ny < 0) ny -= Math.floor(ny / size) * size;
      nx = <f64>(<f32>nx);
      ny = <f64>(<f32>ny);
      if (nx >= size || nx < 0) nx = 0;
      if (ny >= size || ny < 0) ny = 0;

      setF32(VX, i, nvx);
      setF32(VY, i, nvy);
      setF32(X, i, nx);
      setF32(Y, i, ny);
    }
  }
}
