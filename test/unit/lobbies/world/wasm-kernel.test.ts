/**
 * The wasm world kernel: it replays bit-identically with itself (same seed,
 * and across snapshot / fromSnapshot), in every branch of a step (forces
 * across the seams, crowded and stride-sampled cells, the steering budget,
 * dead stops, tiny and huge dt). It sums neighbours in f32 four at a time
 * where the JS kernel sums in f64 one at a time, so the two differ in
 * rounding: from one state, a few steps on each stay within a hair of each
 * other (below), and flock quality holds on both (world.test.ts). Over
 * many steps the flock's chaos grows that hair into different, equally
 * good worlds.
 */
import { describe, expect, it } from 'vitest';
import { JS_KERNEL, type WorldKernel } from '../../../../lobbies/world/wasm-kernel.js';
import type { BoidParams } from '../../../../lobbies/world/boids.js';
import { World, type WorldOptions } from '../../../../lobbies/world/world.js';
import { wasmKernel } from '../../../support/world-kernels.js';
import { stateBits } from '../../../support/world-bits.js';
import { stateGap } from '../../../support/world-gap.js';

const DT = 1 / 60;

/** Bit patterns of the live state, so -0 vs 0 and NaN count as differences. */
function bits(w: World): Uint32Array[] {
  return stateBits(w);
}

function stepped(w: World, steps: number, dt = DT): World {
  for (let s = 0; s < steps; s++) w.step(dt);
  return w;
}

/**
 * A few steps on each kernel from one state stay within rounding of each
 * other: positions within a thousandth of a unit, velocities within a
 * hundredth of a unit/s (speeds are 15 to 50), and far closer on average.
 * Measured when the kernels parted: 4 steps from the states below give at
 * most 3e-5 and 6e-4, rms 1e-6 and 1e-5.
 */
function expectClose(a: World, b: World): void {
  const gap = stateGap(a, b);
  expect(gap.positionMax).toBeLessThan(1e-3);
  expect(gap.velocityMax).toBeLessThan(1e-2);
  expect(gap.positionRms).toBeLessThan(1e-4);
  expect(gap.velocityRms).toBeLessThan(1e-4);
}

/**
 * w's state resumed on each kernel (with w's params: a snapshot does not
 * hold them) and stepped `steps` times: [js, wasm].
 */
function fromOneState(
  w: World,
  steps: number,
  params: Partial<BoidParams> = {},
): [js: World, wasm: World] {
  const state = w.snapshot();
  const js = World.fromSnapshot(state, undefined, params, JS_KERNEL);
  const wasm = World.fromSnapshot(state, undefined, params, wasmKernel());
  return [stepped(js, steps), stepped(wasm, steps)];
}

/** A session touching every input: forces across the seams, spawns near them, removals. */
function session(kernel: WorldKernel, options: Partial<WorldOptions> = {}): World {
  const w = new World({ particles: 2000, seed: 42, ...options, kernel });
  w.setForce(2, 100, 100, 'attract');
  w.setForce(1, 990, 20, 'repel');
  stepped(w, 40);
  expect(w.spawn(500, 999.5, 200)).toBe(true);
  w.setForce(7, 0, 0, 'attract');
  stepped(w, 40);
  w.setForce(2, 600, 400, 'repel');
  w.setForce(7, 0, 0, 'none');
  w.removeForce(1);
  expect(w.spawn(0.2, 0.3, 300)).toBe(true);
  return stepped(w, 40);
}

describe('the wasm world kernel', () => {
  it('steps worlds that say so', () => {
    expect(new World({ particles: 10, seed: 1, kernel: wasmKernel() }).kernel).toBe('wasm');
    expect(new World({ particles: 10, seed: 1 }).kernel).toBe('js');
  });

  it('is bit-identical with itself for the same seed and calls', () => {
    const a = session(wasmKernel());
    expect(bits(a)).toEqual(bits(session(wasmKernel())));
    // And the run did something: another seed ends elsewhere.
    expect(bits(a)).not.toEqual(bits(session(wasmKernel(), { seed: 43 })));
  });

  it('continues bit-identically from a snapshot taken mid-run', () => {
    const straight = new World({ particles: 3000, seed: 9, kernel: wasmKernel() });
    straight.setForce(4, 500, 500, 'attract');
    stepped(straight, 33);
    const snapshot = straight.snapshot();
    const resumed = World.fromSnapshot(snapshot, undefined, undefined, wasmKernel());
    expect(resumed.kernel).toBe('wasm');
    for (const w of [straight, resumed]) {
      w.setForce(9, 20, 980, 'repel');
      stepped(w, 37);
      expect(w.spawn(998, 2, 50)).toBe(true);
      stepped(w, 20);
    }
    expect(bits(resumed)).toEqual(bits(straight));
    expect(resumed.steps).toBe(straight.steps);
  });

  it('stays within rounding of the JS kernel for a few steps from one state', () => {
    expectClose(...fromOneState(session(JS_KERNEL), 4));
  });

  it('continues a JS world from its snapshot close to the JS kernel (and back)', () => {
    const js = new World({ particles: 1500, seed: 3 });
    stepped(js, 25);
    const onWasm = World.fromSnapshot(js.snapshot(), undefined, undefined, wasmKernel());
    stepped(js, 3);
    stepped(onWasm, 3);
    expectClose(onWasm, js);
    const backOnJs = World.fromSnapshot(onWasm.snapshot());
    const stillOnWasm = World.fromSnapshot(onWasm.snapshot(), undefined, undefined, wasmKernel());
    stepped(backOnJs, 1);
    stepped(stillOnWasm, 1);
    expectClose(backOnJs, stillOnWasm);
  });

  describe.each([
    ['crowded cells (half-radius quadrants)', { maxCandidates: 64 }],
    ['stride-sampled clumps', { maxCandidates: 12 }],
    ['no candidate cap', { maxCandidates: 0 }],
    ['the steering budget (every 4th step)', { steerBudget: 1000 }],
    ['steering every step', { steerInterval: 1 }],
  ] as const)('in %s', (_what, params) => {
    // 4000 particles in 300 x 300: about 44k in the default world.
    const run = (kernel: WorldKernel, steps: number) => {
      const w = new World({ size: 300, particles: 4000, seed: 6, params, kernel });
      w.setForce(1, 299, 1, 'attract');
      return stepped(w, steps);
    };

    it('replays bit-identically with itself', () => {
      expect(bits(run(wasmKernel(), 24))).toEqual(bits(run(wasmKernel(), 24)));
    });

    it('stays within rounding of the JS kernel for a few steps from one state', () => {
      expectClose(...fromOneState(run(JS_KERNEL, 24), 4, params));
    });
  });

  /** Every edge of a step; `from` steps before the edges, on `kernel`. */
  const edgeParams = { maxCandidates: 12, forceRadius: 60.5 };
  const edges = (kernel: WorldKernel, from: (w: World) => World = (w) => w): World => {
    const w = new World({
      size: 200.5,
      particles: 0,
      maxParticles: 200,
      seed: 1,
      params: edgeParams,
      kernel,
    });
    w.spawn(100, 100, 60);
    w.spawn(1, 1, 50);
    w.spawn(150, 155, 1);
    w.setForce(2, 2, 190, 'repel');
    stepped(w, 2);
    return from(w);
  };
  /**
   * The edges themselves, written between steps as tests and the JIT
   * warm-up do; `huge` adds a step of 500.5 s.
   */
  const edgeSteps = (w: World, huge: boolean): World => {
    w.x[110] = 150;
    w.y[110] = 155;
    w.vx[110] = 0;
    w.vy[110] = 0;
    w.step(DT);
    w.x[109] = 0;
    w.y[109] = 0;
    w.vx[109] = -20;
    w.vy[109] = -20;
    w.step(1e-9);
    if (huge) w.step(500.5);
    w.step(0);
    return w;
  };
  const atTheEdges = (w: World): World => edgeSteps(w, true);

  it('replays the edges bit-identically: dead stops, a hair below 0, tiny and huge dt', () => {
    const w = edges(wasmKernel(), atTheEdges);
    expect(bits(w)).toEqual(bits(edges(wasmKernel(), atTheEdges)));
    for (let i = 0; i < w.count; i++) {
      expect(w.x[i] >= 0 && w.x[i] < w.size && w.y[i] >= 0 && w.y[i] < w.size).toBe(true);
      const speed = Math.hypot(w.vx[i], w.vy[i]);
      expect(speed).toBeGreaterThanOrEqual(15 - 1e-3);
      expect(speed).toBeLessThanOrEqual(50 + 1e-3);
    }
  });

  it('handles the edges as the JS kernel does, within rounding', () => {
    // From one state, so that only the edge steps differ; the huge dt
    // (500 s) moves particles 500x their velocities' gap, so it is left out.
    const atSmallEdges = (w: World): World => edgeSteps(w, false);
    const state = edges(JS_KERNEL).snapshot();
    const js = atSmallEdges(World.fromSnapshot(state, 200, edgeParams, JS_KERNEL));
    const wasm = atSmallEdges(World.fromSnapshot(state, 200, edgeParams, wasmKernel()));
    expectClose(js, wasm);
    // The dead stop restarts at minSpeed along x on both.
    expect([wasm.vx[110], wasm.vy[110]]).toEqual([js.vx[110], js.vy[110]]);
  });

  it('makes room for more forces than it started with (its memory grows)', () => {
    const w = new World({ particles: 2000, seed: 12, kernel: wasmKernel() });
    stepped(w, 3);
    // 300 forces: the wasm memory starts with room for 64.
    for (let f = 0; f < 300; f++) w.setForce(f, (f * 37) % 1000, (f * 91) % 1000, 'attract');
    const [js, wasm] = fromOneState(w, 3);
    expectClose(js, wasm);
    for (let f = 0; f < 300; f += 2) {
      js.removeForce(f);
      wasm.removeForce(f);
    }
    stepped(js, 1);
    stepped(wasm, 1);
    expectClose(js, wasm);
  });
});
