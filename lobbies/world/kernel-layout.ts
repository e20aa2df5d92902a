/**
 * The wasm kernel's memory contract, shared by a world's own thread and its
 * partition threads: where everything sits in the world's shared memory
 * (`kernelLayout`, a pure function of the world's shape and partition
 * count, so every thread computes the same offsets without being told),
 * the control block the threads meet on (`CONTROL`), and an instance of
 * the kernel configured for one partition (`instantiateKernel`).
 *
 * Runs anywhere: WebAssembly and Atomics are globals in Node and browsers.
 */

import type { BoidParams } from './boids.js';

/** A wasm page, in bytes. */
export const PAGE = 65_536;

/**
 * The memory a world may grow to, in 64 KiB pages: 1 GiB. The kernel
 * declares it (asc --maximumMemory, see world-kernel-build.ts) and every
 * world's shared memory asks for it. A shared memory reserves its maximum
 * as address space up front (that is what keeps its buffer, and the
 * world's views into it, from ever moving), so it costs no RAM; only the
 * pages a world uses are committed. 1 GiB covers the largest world with
 * room to spare: a million particles take 14 arrays of 4 MB (56 MB).
 */
export const KERNEL_MAXIMUM_PAGES = 16_384;

/** Most threads one world may be split across (the control block has a slot for each). */
export const MAX_PARTITIONS = 16;

/** Most ranges a block can produce (spatial-grid.ts MAX_NEIGHBOUR_RANGES). */
const RANGE_SLOTS = 12;

/** Int32 slot of partition p's own 64-byte line (apart, so that no two threads write one line). */
const partitionLine = (p: number): number => 64 + 16 * p;

/**
 * The control block at the start of memory, in Int32 slots (dt and tick
 * are f64, at Float64 slots). Written by the world's thread before it
 * bumps `generation`; read by partition threads after they see it change
 * (Atomics order the plain writes before the bump).
 */
export const CONTROL = {
  /** Bumped by the world's thread to start a step on every partition. */
  generation: 0,
  /** Set to 1 to make partition threads return. */
  stop: 1,
  forceCount: 2,
  forceCapacity: 3,
  interval: 4,
  /** Float64 slots. */
  dt64: 4,
  tick64: 5,
  /** bands + p: the first cell of partition p's band; bands + partitions: all cells. */
  bands: 16,
  /** The last generation partition p finished. */
  done: (p: number): number => partitionLine(p),
  /** 1 once partition p's thread is ready to step. */
  ready: (p: number): number => partitionLine(p) + 1,
  ints: partitionLine(MAX_PARTITIONS),
} as const;

/** What the kernel needs to know of a world. Plain data: it goes to partition threads as is. */
export interface WasmKernelShape {
  size: number;
  cols: number;
  cellSize: number;
  capacity: number;
  params: Readonly<BoidParams>;
}

/** One thread's scratch for the cell loop. */
interface PartitionScratch {
  ranges: number;
  shifts: number;
  /** integrateSlots' last one to three slots go through it (boids-kernel.ts): INTEGRATE_TAIL_BYTES. */
  tail: number;
}

/** Byte offsets into a world's memory. */
export interface KernelLayout {
  control: number;
  x: number;
  y: number;
  vx: number;
  vy: number;
  sx: number;
  sy: number;
  svx: number;
  svy: number;
  /**
   * The new state, at sorted slots (boids-kernel.ts stepCells), until
   * `scatter` copies it to x, y, vx, vy: contiguous per band, so threads
   * do not write each other's cache lines (false sharing).
   */
  nx: number;
  ny: number;
  nvx: number;
  nvy: number;
  sorted: number;
  pcell: number;
  cellStart: number;
  cellCount: number;
  fill: number;
  scratch: PartitionScratch[];
  /** Where the forces start: everything after it is force storage, which grows. */
  forcesAt: number;
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;
/** To a cache line. */
const align64 = (n: number): number => Math.ceil(n / 64) * 64;

/** boids-kernel.ts integrateSlots' tail scratch: six blocks of four f32. */
const INTEGRATE_TAIL_BYTES = 6 * 16;

/** Where everything sits in the memory of a world of this shape split `partitions` ways. */
export function kernelLayout(shape: WasmKernelShape, partitions: number): KernelLayout {
  const cap = Math.max(1, shape.capacity);
  const cells = shape.cols * shape.cols;
  let at = 0;
  const take = (bytes: number): number => {
    const start = at;
    at = align8(at + bytes);
    return start;
  };
  const control = take(4 * CONTROL.ints);
  const [x, y, vx, vy, sx, sy, svx, svy, nx, ny, nvx, nvy] = Array.from({ length: 12 }, () =>
    take(4 * cap),
  );
  const sorted = take(4 * cap);
  const pcell = take(4 * cap);
  const cellStart = take(4 * (cells + 1));
  const cellCount = take(4 * cells);
  const fill = take(4 * cells);
  // Each thread's scratch on lines of its own: written for every cell it
  // steps, it must share no line with the next thread's (false sharing).
  const scratch = Array.from({ length: partitions }, () => {
    at = align64(at);
    return {
      ranges: take(4 * RANGE_SLOTS),
      shifts: take(8 * RANGE_SLOTS),
      tail: take(INTEGRATE_TAIL_BYTES),
    };
  });
  at = align64(at);
  return {
    control,
    x,
    y,
    vx,
    vy,
    sx,
    sy,
    svx,
    svy,
    nx,
    ny,
    nvx,
    nvy,
    sorted,
    pcell,
    cellStart,
    cellCount,
    fill,
    scratch,
    forcesAt: at,
  };
}

/**
 * Where the forces sit for room for `capacity` of them: x, y and sign
 * (f64, the world's), then one force list (i32) per partition.
 */
export function forceLayout(
  layout: KernelLayout,
  capacity: number,
  partition: number,
): { fx: number; fy: number; sign: number; list: number; end: number } {
  const fx = layout.forcesAt;
  const fy = fx + 8 * capacity;
  const sign = fy + 8 * capacity;
  const lists = sign + 8 * capacity;
  return {
    fx,
    fy,
    sign,
    list: lists + 4 * capacity * partition,
    end: lists + 4 * capacity * layout.scratch.length,
  };
}

/** Pages for `bytes`, at least one byte past them. */
export const pagesFor = (bytes: number): number => Math.ceil((bytes + 1) / PAGE);

/** The exports of boids-kernel.ts (see there for what each takes). */
export interface KernelExports {
  configureLayout(...offsets: number[]): void;
  configureForces(fx: number, fy: number, sign: number, list: number): void;
  configureWorld(...values: number[]): void;
  step(count: number, dt: number, tick: number, interval: number, forceCount: number): void;
  prepare(count: number): void;
  scatter(from: number, to: number): void;
  stepCells(
    cellFrom: number,
    cellTo: number,
    dt: number,
    tick: number,
    interval: number,
    forceCount: number,
  ): void;
}

const KERNEL_EXPORTS = [
  'configureLayout',
  'configureForces',
  'configureWorld',
  'step',
  'prepare',
  'stepCells',
  'scatter',
] as const;

/**
 * An instance of the kernel on `memory`, configured for partition
 * `partition`'s scratch (forces are configured apart: their place moves
 * when they grow).
 *
 * @throws on a module that is not the boids kernel (missing exports or imports), or not this version of it (its configureLayout takes another layout).
 */
export function instantiateKernel(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  shape: WasmKernelShape,
  layout: KernelLayout,
  partition: number,
): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  for (const name of KERNEL_EXPORTS) {
    if (typeof instance.exports[name] !== 'function')
      throw new TypeError(`not the boids kernel: the wasm module exports no ${name}()`);
  }
  const kernel = instance.exports as unknown as KernelExports;
  const l = layout;
  const own = l.scratch[partition];
  const offsets = [
    ...[l.x, l.y, l.vx, l.vy, l.sx, l.sy, l.svx, l.svy, l.nx, l.ny, l.nvx, l.nvy],
    ...[l.sorted, l.pcell, l.cellStart, l.cellCount, l.fill],
    ...[own.ranges, own.shifts, own.tail],
  ];
  // A module built from another version of the kernel source (a stale
  // .wasm) would take the offsets for another layout and write where it
  // should not: refused here, before it runs.
  if (kernel.configureLayout.length !== offsets.length)
    throw new TypeError(
      `not this version of the boids kernel: its configureLayout takes ${kernel.configureLayout.length} offsets, this layout has ${offsets.length} (npm run build:kernel)`,
    );
  kernel.configureLayout(...offsets);
  const p = shape.params;
  kernel.configureWorld(
    shape.size,
    shape.cols,
    shape.cellSize,
    shape.cols / shape.size,
    p.neighbourRadius,
    p.separationRadius,
    p.alignment,
    p.cohesion,
    p.separation,
    p.minSpeed,
    p.maxSpeed,
    p.maxCandidates,
    p.forceRadius,
    p.forceStrength,
  );
  return kernel;
}
