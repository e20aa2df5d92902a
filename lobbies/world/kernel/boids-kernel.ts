/**
 * The world step in AssemblyScript, compiled to WebAssembly by
 * lobbies/world-kernel-build.ts (not by tsc: this file is excluded from
 * the project's tsconfig). Owns the grid rebuild (counting sort into cells)
 * and the boids step on linear memory, a port of spatial-grid.ts `rebuild`,
 * `neighbourRanges`, `quadrantRanges` and boids.ts `stepBoids`.
 *
 * Semantics as the JS kernel's (the same neighbours: radius, crowded
 * quadrants, stride sampling, cap; the same forces, clamp, integration and
 * wrap), but not its bits: the neighbour sums, the bulk of a step, run in
 * f32 four candidates per f32x4 in one pass (sumNeighbours), where JS
 * runs in f64 one candidate at a time. From one state the two stay within
 * rounding for a few steps (tested), then part as any chaotic flock does.
 *
 * Determinism: a fixed order of operations, each an exactly specified IEEE
 * one (wasm's +, -, *, /, sqrt, floor, conversions; SIMD lanes likewise;
 * no relaxed SIMD, no fused multiply-add), and the lanes reduced in a
 * fixed order: the same bits for the same inputs on every run, engine and
 * thread.
 *
 * Memory: a shared memory per world, laid out by wasm-kernel.ts, imported
 * by one instance on the world's own thread and one on each partition
 * thread (world-partition.ts). Globals are per instance: each configures
 * the layout (with its own scratch: ranges, shifts, sampled candidates, force
 * lists) and the world's constants once. Nothing is allocated here (stub
 * runtime).
 *
 * A step is `prepare` (grid rebuild, gather into the sorted scratch), then
 * `stepCells` over cells, then `scatter`. The cell loop reads only the
 * sorted scratch (the state before the step) and the forces, and writes
 * each particle's new state at its sorted slot, into NX, NY, NVX, NVY: any
 * set of cells may be stepped apart, in any order, on any thread, and give
 * the same bits. `scatter` then copies the new state back to each
 * particle's own index in X, Y, VX, VY (particle order is the protocol's:
 * never relabelled). Why not write at the index directly: one band's
 * particles are scattered over the whole index range, so threads stepping
 * different bands would write into the same 64-byte lines of X/Y/VX/VY
 * all the time (false sharing; measured: 2 threads 0.9-1.2x over 1 at
 * 100k, against 1.3-1.7x with this path, docs/BENCHMARKS.md). Sorted slots
 * are contiguous per band: bands share a line at their edges only. `step`
 * is all three over all cells, for a world on one thread.
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
let NX: usize = 0;
let NY: usize = 0;
let NVX: usize = 0;
let NVY: usize = 0;
let SORTED: usize = 0;
let PCELL: usize = 0;
let CELL_START: usize = 0;
let CELL_COUNT: usize = 0;
let FILL: usize = 0;
let RANGES: usize = 0;
let SHIFTS: usize = 0;
/** The sampled candidates of one particle: x, y, vx, vy arrays of SAMPLE_SLOTS f32 each. */
let SAMPLES: usize = 0;
let SAMPLE_SLOTS: i32 = 0;
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
  nx: usize,
  ny: usize,
  nvx: usize,
  nvy: usize,
  sorted: usize,
  pcell: usize,
  cellStart: usize,
  cellCount: usize,
  fill: usize,
  ranges: usize,
  shifts: usize,
  samples: usize,
  sampleSlots: i32,
): void {
  X = x;
  Y = y;
  VX = vx;
  VY = vy;
  SX = sx;
  SY = sy;
  SVX = svx;
  SVY = svy;
  NX = nx;
  NY = ny;
  NVX = nvx;
  NVY = nvy;
  SORTED = sorted;
  PCELL = pcell;
  CELL_START = cellStart;
  CELL_COUNT = cellCount;
  FILL = fill;
  RANGES = ranges;
  SHIFTS = shifts;
  SAMPLES = samples;
  SAMPLE_SLOTS = sampleSlots;
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

/** Lane numbers 0..3, a candidate's place in its group of four. */
const LANES: v128 = i32x4(0, 1, 2, 3);
const FOUR4: v128 = i32x4(4, 4, 4, 4);
const ONE4: v128 = f32x4(1, 1, 1, 1);
const SOFTENING4: v128 = f32x4(
  <f32>SEPARATION_SOFTENING,
  <f32>SEPARATION_SOFTENING,
  <f32>SEPARATION_SOFTENING,
  <f32>SEPARATION_SOFTENING,
);

/** The four f32 lanes' sum in f64, in a fixed order (determinism). */
function laneSum(v: v128): f64 {
  return (
    <f64>f32x4.extract_lane(v, 0) +
    <f64>f32x4.extract_lane(v, 1) +
    (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3))
  );
}

function laneSumI32(v: v128): i32 {
  return (
    i32x4.extract_lane(v, 0) +
    i32x4.extract_lane(v, 1) +
    i32x4.extract_lane(v, 2) +
    i32x4.extract_lane(v, 3)
  );
}

// What sumNeighbours found, for the particle it was asked about.
let NEIGHBOURS: i32 = 0;
let SUM_VX: f64 = 0;
let SUM_VY: f64 = 0;
let SUM_DX: f64 = 0;
let SUM_DY: f64 = 0;
let SEP_X: f64 = 0;
let SEP_Y: f64 = 0;

/**
 * The neighbour sums of the particle at sorted index `a`, at (px, py), over
 * ranges [0, nq) of RANGES/SHIFTS into the arrays xs, ys, vxs, vys:
 * candidates within radius2 other than the one at index `self` (a, or
 * where a landed among the samples) count, and give their count, the sums
 * of their velocities and offsets, and the separation push, in
 * NEIGHBOURS, SUM_*, SEP_*.
 *
 * f32, four candidates per f32x4 in one pass: offset, distance, masks and
 * sums, no branch on the data. Each lane sums its own candidates, and the
 * lanes are added in a fixed order at the end, in f64: the same bits on
 * every run, engine and thread. Lanes past a range's end read on into the
 * next particles or the next array (memory that is there, whatever it
 * holds) and are masked out.
 */
function sumNeighbours(
  xs: usize,
  ys: usize,
  vxs: usize,
  vys: usize,
  nq: i32,
  self: i32,
  px: f64,
  py: f64,
  radius2: f64,
): void {
  const vr2 = f32x4.splat(<f32>radius2);
  const vsep2 = f32x4.splat(<f32>SEP2);
  const vself = i32x4.splat(self);
  let vn = i32x4.splat(0);
  let vsvx = f32x4.splat(0);
  let vsvy = f32x4.splat(0);
  let vdx = f32x4.splat(0);
  let vdy = f32x4.splat(0);
  let vsepx = f32x4.splat(0);
  let vsepy = f32x4.splat(0);
  for (let r = 0; r < nq; r++) {
    const start = i32At(RANGES, 2 * r);
    const end = i32At(RANGES, 2 * r + 1);
    // The range's wrap shift folded into the particle's offset (exact in
    // f64: a shift is 0 or +-size), rounded once to f32.
    const vox = f32x4.splat(<f32>(f64At(SHIFTS, 2 * r) - px));
    const voy = f32x4.splat(<f32>(f64At(SHIFTS, 2 * r + 1) - py));
    const vend = i32x4.splat(end);
    let vj = i32x4.add(i32x4.splat(start), LANES);
    for (let j = start; j < end; j += 4) {
      const at = (<usize>j) << 2;
      const dx = f32x4.add(v128.load(xs + at), vox);
      const dy = f32x4.add(v128.load(ys + at), voy);
      const d2 = f32x4.add(f32x4.mul(dx, dx), f32x4.mul(dy, dy));
      const inside = v128.and(
        v128.and(f32x4.lt(d2, vr2), i32x4.ne(vj, vself)),
        i32x4.lt_s(vj, vend),
      );
      vn = i32x4.sub(vn, inside);
      vsvx = f32x4.add(vsvx, v128.and(v128.load(vxs + at), inside));
      vsvy = f32x4.add(vsvy, v128.and(v128.load(vys + at), inside));
      vdx = f32x4.add(vdx, v128.and(dx, inside));
      vdy = f32x4.add(vdy, v128.and(dy, inside));
      const inv = v128.and(
        f32x4.div(ONE4, f32x4.add(d2, SOFTENING4)),
        v128.and(f32x4.lt(d2, vsep2), inside),
      );
      vsepx = f32x4.sub(vsepx, f32x4.mul(dx, inv));
      vsepy = f32x4.sub(vsepy, f32x4.mul(dy, inv));
      vj = i32x4.add(vj, FOUR4);
    }
  }
  NEIGHBOURS = laneSumI32(vn);
  SUM_VX = laneSum(vsvx);
  SUM_VY = laneSum(vsvy);
  SUM_DX = laneSum(vdx);
  SUM_DY = laneSum(vdy);
  SEP_X = laneSum(vsepx);
  SEP_Y = laneSum(vsepy);
}

/** Sample array k: 0 x, 1 y, 2 vx, 3 vy. */
function sampleArray(k: i32): usize {
  return SAMPLES + ((<usize>(k * SAMPLE_SLOTS)) << 2);
}

/**
 * Stride sampling (a crowded spot): every stride-th candidate of ranges
 * [0, nq), starting at a % stride and carried on across ranges, copied
 * into the sample arrays with its range's wrap shift applied, which become
 * range 0 (shift 0) for sumNeighbours. Returns where particle `a` landed
 * among them, or -1.
 */
function gatherSamples(nq: i32, a: i32, stride: i32): i32 {
  const xs = sampleArray(0);
  const ys = sampleArray(1);
  const vxs = sampleArray(2);
  const vys = sampleArray(3);
  let m = 0;
  let self = -1;
  let skip = a % stride;
  for (let r = 0; r < nq; r++) {
    const end = i32At(RANGES, 2 * r + 1);
    const shiftX = f64At(SHIFTS, 2 * r);
    const shiftY = f64At(SHIFTS, 2 * r + 1);
    let j = i32At(RANGES, 2 * r) + skip;
    for (; j < end; j += stride) {
      if (j === a) self = m;
      const at = (<usize>m) << 2;
      store<f32>(xs + at, <f32>(f32At(SX, j) + shiftX));
      store<f32>(ys + at, <f32>(f32At(SY, j) + shiftY));
      store<f32>(vxs + at, load<f32>(SVX + ((<usize>j) << 2)));
      store<f32>(vys + at, load<f32>(SVY + ((<usize>j) << 2)));
      m++;
    }
    skip = j - end;
  }
  setRange(0, 0, m, 0, 0);
  return self;
}

/**
 * boids.ts `stepBoids` on one thread: advances particles [0, count) by dt
 * (prepare, stepCells over all cells, scatter: the split path's bits).
 * `interval` is steerIntervalFor(params, count), `tick` the steps taken
 * before this one, `forceCount` the active forces.
 */
export function step(count: i32, dt: f64, tick: f64, interval: i32, forceCount: i32): void {
  prepare(count);
  stepCells(0, CELLS, dt, tick, interval, forceCount);
  scatter(0, count);
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
 * The middle of a step, for cells [cellFrom, cellTo) after `prepare`:
 * boids.ts `stepBoids`'s cell loop, writing the new state of those cells'
 * particles at their sorted slots in NX, NY, NVX, NVY (see the top of this
 * file for why not at their indices), for `scatter` to put in place.
 * Arguments as for `step`.
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
        if (stride === 1) sumNeighbours(SX, SY, SVX, SVY, nq, a, px, py, radius2);
        else {
          const self = gatherSamples(nq, a, stride);
          sumNeighbours(
            sampleArray(0),
            sampleArray(1),
            sampleArray(2),
            sampleArray(3),
            1,
            self,
            px,
            py,
            radius2,
          );
        }
        const n = NEIGHBOURS;
        if (n > 0) {
          const invN = 1 / <f64>n;
          ax = (SUM_VX * invN - pvx) * alignW + SUM_DX * invN * cohW + SEP_X * sepW;
          ay = (SUM_VY * invN - pvy) * alignW + SUM_DY * invN * cohW + SEP_Y * sepW;
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

      setF32(NVX, a, nvx);
      setF32(NVY, a, nvy);
      setF32(NX, a, nx);
      setF32(NY, a, ny);
    }
  }
}

/**
 * The last part of a step, once `stepCells` has covered every cell: the
 * new state of sorted slots [from, to) from NX, NY, NVX, NVY to each
 * particle's own index in X, Y, VX, VY. A split world runs it over all
 * slots on its own thread after the barrier: one O(n) pass of plain
 * copies, cheaper than the lines the threads would fight over otherwise.
 */
export function scatter(from: i32, to: i32): void {
  for (let a = from; a < to; a++) {
    const at = (<usize>a) << 2;
    const i = (<usize>i32At(SORTED, a)) << 2;
    store<f32>(X + i, load<f32>(NX + at));
    store<f32>(Y + i, load<f32>(NY + at));
    store<f32>(VX + i, load<f32>(NVX + at));
    store<f32>(VY + i, load<f32>(NVY + at));
  }
}
