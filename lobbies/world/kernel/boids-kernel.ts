/**
 * The world step in AssemblyScript, compiled to WebAssembly by
 * lobbies/world-kernel-build.ts (not by tsc: this file is excluded from
 * the project's tsconfig, and from biome's checks in biome.json, whose
 * parser rejects AssemblyScript's `@inline` on functions). Owns the grid rebuild (counting sort into cells)
 * and the boids step on linear memory, a port of spatial-grid.ts `rebuild`,
 * `neighbourRanges`, `quadrantRanges` and boids.ts `stepBoids`.
 *
 * Semantics as the JS kernel's (the same neighbours: radius, crowded
 * quadrants, stride sampling, cap; the same forces, clamp, integration and
 * wrap), but not its bits: the neighbour sums, the bulk of a step, run in
 * f32 four candidates per f32x4 in one pass (sumNeighbours), and the speed
 * limits, integration and wrap in f32 four particles per f32x4
 * (integrateSlots), where JS runs in f64 one at a time. From one state the
 * two stay within rounding for a few steps (tested), then part as any
 * chaotic flock does.
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
 * the layout (with its own scratch: ranges, shifts, the integration tail, force
 * lists) and the world's constants once. Nothing is allocated here (stub
 * runtime).
 *
 * A step is `prepare` (grid rebuild, gather into the sorted scratch), then
 * `stepCells` over cells (each particle's acceleration, then the cells'
 * slots integrated), then `scatter`. The cell loop reads only the
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
/** Scratch for integrateSlots' last one to three slots: six blocks of four f32. */
let TAIL: usize = 0;
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
  tail: usize,
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
  TAIL = tail;
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
  // Globals read once into locals: the engine reloads a global on every use.
  const xs = X;
  const ys = Y;
  const pcell = PCELL;
  const cellCount = CELL_COUNT;
  const cellStart = CELL_START;
  const fill = FILL;
  const sorted = SORTED;
  memory.fill(cellCount, 0, (<usize>cells) << 2);
  for (let i = 0; i < count; i++) {
    const c =
      min(<i32>(f32At(ys, i) * inv), last) * cols +
      min(<i32>(f32At(xs, i) * inv), last);
    setI32(pcell, i, c);
    setI32(cellCount, c, i32At(cellCount, c) + 1);
  }
  let sum = 0;
  for (let c = 0; c < cells; c++) {
    setI32(cellStart, c, sum);
    setI32(fill, c, sum);
    sum += i32At(cellCount, c);
  }
  setI32(cellStart, cells, sum);
  for (let i = 0; i < count; i++) {
    const c = i32At(pcell, i);
    const slot = i32At(fill, c);
    setI32(fill, c, slot + 1);
    setI32(sorted, slot, i);
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
function quadrantRanges(row: i32, col: i32, lowX: bool, lowY: bool): i32 {
  const cols = COLS;
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
 * Four candidates' values from `p`, `step` bytes apart: every stride-th
 * candidate, read in place.
 */
@inline
function gather4(p: usize, step: usize): v128 {
  let v = v128.load32_zero(p);
  v = v128.load32_lane(p + step, v, 1);
  v = v128.load32_lane(p + 2 * step, v, 2);
  return v128.load32_lane(p + 3 * step, v, 3);
}

/**
 * Four candidates' values from j on: consecutive ones (`strided` false,
 * stride 1) or every stride-th one (`step` = stride * 4 bytes).
 */
@inline
function load4(p: usize, step: usize, strided: bool): v128 {
  return strided ? gather4(p, step) : v128.load(p);
}

/**
 * The neighbour sums of the particle at sorted slot `a`, at (px, py), over
 * ranges [0, nq) of RANGES/SHIFTS into SX, SY, SVX, SVY: candidates within
 * radius2 other than `a` itself count, and give their count, the sums of
 * their velocities and offsets, and the separation push, in NEIGHBOURS,
 * SUM_*, SEP_*.
 *
 * `strided` (a crowded spot): every stride-th candidate only, starting at
 * a % stride and carried on across ranges, as in the JS kernel; read in
 * place, four loads a stride apart (copying them out first cost 15% of a
 * 50k step). A constant at each call site, so that each inlined copy
 * keeps only its own kind of load.
 *
 * f32, four candidates per f32x4 in one pass: offset, distance, masks and
 * sums, no branch on the data. Each lane sums its own candidates, and the
 * lanes are added in a fixed order at the end, in f64: the same bits on
 * every run, engine and thread. Only a range's last group of four is
 * masked: unstrided, its lanes past the end read on into the next
 * particles or the next array (memory that is there, whatever it holds);
 * strided, lanes 1-2 read the group's first candidate again and lane 3
 * stays 0. `a` is not masked
 * either: where it is a candidate, it is one at offset 0 (inside; no
 * separation push, its offset being 0), so it is taken back out of the
 * count and the velocity sums at the end.
 */
@inline
function sumNeighbours(
  nq: i32,
  a: i32,
  px: f64,
  py: f64,
  radius2: f64,
  strided: bool,
  stride: i32,
): void {
  const xs = SX;
  const ys = SY;
  const vxs = SVX;
  const vys = SVY;
  const step = (<usize>stride) << 2;
  const vr2 = f32x4.splat(<f32>radius2);
  const vsep2 = f32x4.splat(<f32>SEP2);
  let vn = i32x4.splat(0);
  let vsvx = f32x4.splat(0);
  let vsvy = f32x4.splat(0);
  let vdx = f32x4.splat(0);
  let vdy = f32x4.splat(0);
  let vsepx = f32x4.splat(0);
  let vsepy = f32x4.splat(0);
  // Whether a is among the candidates: always, unstrided.
  let self = !strided;
  let skip = strided ? a % stride : 0;
  for (let r = 0; r < nq; r++) {
    const start = i32At(RANGES, 2 * r);
    const end = i32At(RANGES, 2 * r + 1);
    const vox = f32x4.splat(<f32>(f64At(SHIFTS, 2 * r) - px));
    const voy = f32x4.splat(<f32>(f64At(SHIFTS, 2 * r + 1) - py));
    let j = start + skip;
    if (strided && a >= j && a < end && (a - j) % stride === 0) self = true;
    for (; j + 3 * stride < end; j += 4 * stride) {
      const at = (<usize>j) << 2;
      const dx = f32x4.add(load4(xs + at, step, strided), vox);
      const dy = f32x4.add(load4(ys + at, step, strided), voy);
      const d2 = f32x4.add(f32x4.mul(dx, dx), f32x4.mul(dy, dy));
      const inside = f32x4.lt(d2, vr2);
      vn = i32x4.sub(vn, inside);
      vsvx = f32x4.add(vsvx, v128.and(load4(vxs + at, step, strided), inside));
      vsvy = f32x4.add(vsvy, v128.and(load4(vys + at, step, strided), inside));
      vdx = f32x4.add(vdx, v128.and(dx, inside));
      vdy = f32x4.add(vdy, v128.and(dy, inside));
      const inv = v128.and(f32x4.div(ONE4, f32x4.add(d2, SOFTENING4)), f32x4.lt(d2, vsep2));
      vsepx = f32x4.sub(vsepx, f32x4.mul(dx, inv));
      vsepy = f32x4.sub(vsepy, f32x4.mul(dy, inv));
    }
    if (j < end) {
      const left = strided ? (end - 1 - j) / stride + 1 : end - j;
      const tail = i32x4.lt_s(LANES, i32x4.splat(left));
      // Strided lanes 1-2 past the end read the group's first candidate again; lane 3 stays 0.
      const s1: usize = left > 1 ? step : 0;
      const s2: usize = left > 2 ? 2 * step : 0;
      const at = (<usize>j) << 2;
      const dx = f32x4.add(strided ? tail3(xs + at, s1, s2) : v128.load(xs + at), vox);
      const dy = f32x4.add(strided ? tail3(ys + at, s1, s2) : v128.load(ys + at), voy);
      const d2 = f32x4.add(f32x4.mul(dx, dx), f32x4.mul(dy, dy));
      const inside = v128.and(f32x4.lt(d2, vr2), tail);
      vn = i32x4.sub(vn, inside);
      const vx = strided ? tail3(vxs + at, s1, s2) : v128.load(vxs + at);
      const vy = strided ? tail3(vys + at, s1, s2) : v128.load(vys + at);
      vsvx = f32x4.add(vsvx, v128.and(vx, inside));
      vsvy = f32x4.add(vsvy, v128.and(vy, inside));
      vdx = f32x4.add(vdx, v128.and(dx, inside));
      vdy = f32x4.add(vdy, v128.and(dy, inside));
      const inv = v128.and(
        f32x4.div(ONE4, f32x4.add(d2, SOFTENING4)),
        v128.and(f32x4.lt(d2, vsep2), tail),
      );
      vsepx = f32x4.sub(vsepx, f32x4.mul(dx, inv));
      vsepy = f32x4.sub(vsepy, f32x4.mul(dy, inv));
      j += left * stride;
    }
    skip = j - end;
  }
  NEIGHBOURS = laneSumI32(vn);
  SUM_VX = laneSum(vsvx);
  SUM_VY = laneSum(vsvy);
  SUM_DX = laneSum(vdx);
  SUM_DY = laneSum(vdy);
  SEP_X = laneSum(vsepx);
  SEP_Y = laneSum(vsepy);
  if (self) {
    NEIGHBOURS -= 1;
    SUM_VX -= f32At(vxs, a);
    SUM_VY -= f32At(vys, a);
  }
}

/** A strided group's last one to three candidates, at p, p + s1, p + s2 (lane 3 masked). */
@inline
function tail3(p: usize, s1: usize, s2: usize): v128 {
  let v = v128.load32_zero(p);
  v = v128.load32_lane(p + s1, v, 1);
  return v128.load32_lane(p + s2, v, 2);
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
  const sorted = SORTED;
  const x = X;
  const y = Y;
  const vx = VX;
  const vy = VY;
  const sx = SX;
  const sy = SY;
  const svx = SVX;
  const svy = SVY;
  for (let a = 0; a < count; a++) {
    const at = (<usize>a) << 2;
    const i = (<usize>i32At(sorted, a)) << 2;
    store<f32>(sx + at, load<f32>(x + i));
    store<f32>(sy + at, load<f32>(y + i));
    store<f32>(svx + at, load<f32>(vx + i));
    store<f32>(svy + at, load<f32>(vy + i));
  }
}

/** The candidates in ranges [0, nr). */
function rangesTotal(nr: i32): i32 {
  let total = 0;
  for (let r = 0; r < nr; r++) total += i32At(RANGES, 2 * r + 1) - i32At(RANGES, 2 * r);
  return total;
}

// What steer found: the steering acceleration of the particle it was asked about.
let STEER_X: f64 = 0;
let STEER_Y: f64 = 0;

/**
 * The steering acceleration of the particle at sorted slot a, in cell
 * (row, col) whose 3x3 ranges [0, nr) are in RANGES (crowded: over the cap),
 * into STEER_X, STEER_Y; the gains are per step interval.
 */
@inline
function steer(
  a: i32,
  row: i32,
  col: i32,
  nr: i32,
  crowded: bool,
  midX: f64,
  midY: f64,
  alignW: f64,
  cohW: f64,
  sepW: f64,
): void {
  const px = f32At(SX, a);
  const py = f32At(SY, a);
  let nq = nr;
  let radius2 = R2;
  let stride = 1;
  if (crowded) {
    const cap = MAX_CANDIDATES;
    nq = quadrantRanges(row, col, px < midX, py < midY);
    const total = rangesTotal(nq);
    radius2 = R2 * 0.25;
    if (total > cap) stride = (total + cap - 1) / cap;
  }
  if (stride === 1) sumNeighbours(nq, a, px, py, radius2, false, 1);
  else sumNeighbours(nq, a, px, py, radius2, true, stride);
  const n = NEIGHBOURS;
  STEER_X = 0;
  STEER_Y = 0;
  if (n > 0) {
    const invN = 1 / <f64>n;
    STEER_X = (SUM_VX * invN - f32At(SVX, a)) * alignW + SUM_DX * invN * cohW + SEP_X * sepW;
    STEER_Y = (SUM_VY * invN - f32At(SVY, a)) * alignW + SUM_DY * invN * cohW + SEP_Y * sepW;
  }
}

/**
 * The steering phase of the current step. A global, not a local: as a local
 * computed once, binaryen sank its division and floor into the per-particle
 * loop (seen in V8's code; about 10% of a step at 50k).
 */
let PHASE: i32 = 0;

/**
 * The middle of a step, for cells [cellFrom, cellTo) after `prepare`:
 * boids.ts `stepBoids`'s cell loop, each particle's acceleration (steering
 * and forces) left at its sorted slot in NX, NY, then `integrateSlots` over
 * those cells' slots, writing their new state at the same slots in NX, NY,
 * NVX, NVY (see the top of this file for why not at their indices), for
 * `scatter` to put in place. Arguments as for `step`.
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
  // tick may exceed 2**31 in a long-lived world: take the phase in f64.
  PHASE = <i32>(tick - Math.floor(tick / <f64>interval) * <f64>interval);
  const phase = PHASE;
  const mask = (interval & (interval - 1)) === 0 ? interval - 1 : -1;
  const alignW = ALIGNMENT * <f64>interval;
  const cohW = COHESION * <f64>interval;
  const sepW = SEPARATION * <f64>interval;
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
    const row = c / cols;
    const col = c - row * cols;
    const midX = (<f64>col + 0.5) * cellSize;
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

    if (cellForces === 0) {
      // The cell's steering particles listed first (branch-free: which of
      // them steer alternates at random, a branch mispredicted half the
      // time), then stepped. The list goes in NVX at the cell's own slots,
      // which integrateSlots fills only after this loop; each acceleration
      // is 0 unless steering sets it.
      const list = NVX + ((<usize>cs) << 2);
      let n = 0;
      for (let a = cs; a < ce; a++) {
        const i = i32At(SORTED, a);
        store<i32>(list + ((<usize>n) << 2), a);
        n += <i32>((mask >= 0 ? i & mask : i % interval) === phase);
        setF32(NX, a, 0);
        setF32(NY, a, 0);
      }
      if (n === 0) continue;
      const nr = neighbourRanges(c);
      const crowded = cap > 0 && rangesTotal(nr) > cap;
      for (let q = 0; q < n; q++) {
        const a = load<i32>(list + ((<usize>q) << 2));
        steer(a, row, col, nr, crowded, midX, midY, alignW, cohW, sepW);
        setF32(NX, a, STEER_X);
        setF32(NY, a, STEER_Y);
      }
      continue;
    }
    let nr = -1;
    let crowded = false;
    for (let a = cs; a < ce; a++) {
      const i = i32At(SORTED, a);
      const px = f32At(SX, a);
      const py = f32At(SY, a);
      let ax: f64 = 0;
      let ay: f64 = 0;
      if ((mask >= 0 ? i & mask : i % interval) === phase) {
        if (nr < 0) {
          nr = neighbourRanges(c);
          crowded = cap > 0 && rangesTotal(nr) > cap;
        }
        steer(a, row, col, nr, crowded, midX, midY, alignW, cohW, sepW);
        ax = STEER_X;
        ay = STEER_Y;
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

      // The acceleration, at the slot its new position will take.
      setF32(NX, a, ax);
      setF32(NY, a, ay);
    }
  }
  integrateSlots(i32At(CELL_START, cellFrom), i32At(CELL_START, cellTo), dt);
}

/**
 * Speed limits, integration and wrap of sorted slots [from, to), four at a
 * time in f32: the new velocity and position from the state before the
 * step (SX, SY, SVX, SVY) and the acceleration stepCells left in NX, NY,
 * written over it in NX, NY, NVX, NVY. Branch-free (the lanes' limits
 * and wraps are selects). The last one to three slots go through the same
 * four lanes via scratch, never past `to` (the next band may belong to
 * another thread): a slot's bits never depend on its lane or its band.
 */
function integrateSlots(from: i32, to: i32, dt: f64): void {
  const sx = SX;
  const sy = SY;
  const svx = SVX;
  const svy = SVY;
  const nx = NX;
  const ny = NY;
  const nvx = NVX;
  const nvy = NVY;
  let a = from;
  for (; a + 3 < to; a += 4) {
    const at = (<usize>a) << 2;
    integrate4(sx + at, sy + at, svx + at, svy + at, nx + at, ny + at, nvx + at, nvy + at, dt);
  }
  if (a < to) {
    const n = to - a;
    const t = TAIL;
    memory.fill(t, 0, 96);
    for (let k = 0; k < n; k++) {
      const src = (<usize>(a + k)) << 2;
      const dst = (<usize>k) << 2;
      store<f32>(t + dst, load<f32>(sx + src));
      store<f32>(t + 16 + dst, load<f32>(sy + src));
      store<f32>(t + 32 + dst, load<f32>(svx + src));
      store<f32>(t + 48 + dst, load<f32>(svy + src));
      store<f32>(t + 64 + dst, load<f32>(nx + src));
      store<f32>(t + 80 + dst, load<f32>(ny + src));
    }
    integrate4(t, t + 16, t + 32, t + 48, t + 64, t + 80, t + 32, t + 48, dt);
    for (let k = 0; k < n; k++) {
      const src = (<usize>k) << 2;
      const dst = (<usize>(a + k)) << 2;
      store<f32>(nx + dst, load<f32>(t + 64 + src));
      store<f32>(ny + dst, load<f32>(t + 80 + src));
      store<f32>(nvx + dst, load<f32>(t + 32 + src));
      store<f32>(nvy + dst, load<f32>(t + 48 + src));
    }
  }
}

/**
 * Four slots of integrateSlots: reads x, y, vx, vy (state) and ax, ay
 * (acceleration, where the new x, y go), writes nx (over ax), ny (over
 * ay), nvx, nvy.
 */
@inline
function integrate4(
  x: usize,
  y: usize,
  vx: usize,
  vy: usize,
  ax: usize,
  ay: usize,
  nvxAt: usize,
  nvyAt: usize,
  dt: f64,
): void {
  const vdt = f32x4.splat(<f32>dt);
  const size = f32x4.splat(<f32>SIZE);
  const zero = f32x4.splat(0);
  const minSpeed = f32x4.splat(<f32>MIN_SPEED);
  const maxSpeed = f32x4.splat(<f32>MAX_SPEED);
  let nvx = f32x4.add(v128.load(vx), f32x4.mul(v128.load(ax), vdt));
  let nvy = f32x4.add(v128.load(vy), f32x4.mul(v128.load(ay), vdt));
  const s2 = f32x4.add(f32x4.mul(nvx, nvx), f32x4.mul(nvy, nvy));
  const fast = f32x4.gt(s2, f32x4.mul(maxSpeed, maxSpeed));
  const slow = f32x4.lt(s2, f32x4.mul(minSpeed, minSpeed));
  const still = f32x4.eq(s2, zero);
  // Lanes within limits divide too (by their own speed) and keep nv: a select.
  const scale = f32x4.div(v128.bitselect(maxSpeed, minSpeed, fast), f32x4.sqrt(s2));
  const limited = v128.or(fast, slow);
  nvx = v128.bitselect(f32x4.mul(nvx, scale), nvx, limited);
  nvy = v128.bitselect(f32x4.mul(nvy, scale), nvy, limited);
  // A dead stop starts again along +x at the minimum speed.
  nvx = v128.bitselect(minSpeed, nvx, still);
  nvy = v128.bitselect(zero, nvy, still);
  let nx = f32x4.add(v128.load(x), f32x4.mul(nvx, vdt));
  let ny = f32x4.add(v128.load(y), f32x4.mul(nvy, vdt));
  nx = wrap4(nx, size);
  ny = wrap4(ny, size);
  v128.store(nvxAt, nvx);
  v128.store(nvyAt, nvy);
  v128.store(ax, nx);
  v128.store(ay, ny);
}

/** Positions into [0, size): wrapped once, and 0 where rounding lands on size. */
@inline
function wrap4(p: v128, size: v128): v128 {
  const zero = f32x4.splat(0);
  const out = v128.or(f32x4.ge(p, size), f32x4.lt(p, zero));
  const wrapped = f32x4.sub(p, f32x4.mul(f32x4.floor(f32x4.div(p, size)), size));
  const q = v128.bitselect(wrapped, p, out);
  return v128.andnot(q, v128.or(f32x4.ge(q, size), f32x4.lt(q, zero)));
}

/**
 * The last part of a step, once `stepCells` has covered every cell: the
 * new state of sorted slots [from, to) from NX, NY, NVX, NVY to each
 * particle's own index in X, Y, VX, VY. A split world runs it over all
 * slots on its own thread after the barrier: one O(n) pass of plain
 * copies, cheaper than the lines the threads would fight over otherwise.
 */
export function scatter(from: i32, to: i32): void {
  const sorted = SORTED;
  const x = X;
  const y = Y;
  const vx = VX;
  const vy = VY;
  const nx = NX;
  const ny = NY;
  const nvx = NVX;
  const nvy = NVY;
  for (let a = from; a < to; a++) {
    const at = (<usize>a) << 2;
    const i = (<usize>i32At(sorted, a)) << 2;
    store<f32>(x + i, load<f32>(nx + at));
    store<f32>(y + i, load<f32>(ny + at));
    store<f32>(vx + i, load<f32>(nvx + at));
    store<f32>(vy + i, load<f32>(nvy + at));
  }
}
