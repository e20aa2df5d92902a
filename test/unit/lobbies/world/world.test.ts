import { describe, expect, it } from 'vitest';
import { BOID_DEFAULTS } from '../../../../lobbies/world/boids.js';
import { JS_KERNEL, type WorldKernel } from '../../../../lobbies/world/wasm-kernel.js';
import { World, type WorldOptions } from '../../../../lobbies/world/world.js';
import { KERNELS } from '../../../support/world-kernels.js';
import { stateBits } from '../../../support/world-bits.js';

const DT = 1 / 60;

function torusDelta(a: number, b: number, size: number): number {
  let d = Math.abs(a - b);
  if (d > size / 2) d = size - d;
  return d;
}

function torusDistance(w: World, i: number, px: number, py: number): number {
  return Math.hypot(torusDelta(w.x[i], px, w.size), torusDelta(w.y[i], py, w.size));
}

/** Bit patterns of the live state, so -0 vs 0 and NaN count as differences. */
function bits(w: World): Uint32Array[] {
  return stateBits(w);
}

/** |mean of unit velocities|: 0 for random headings, 1 when all fly one way. */
function order(w: World): number {
  let ox = 0;
  let oy = 0;
  for (let i = 0; i < w.count; i++) {
    const s = Math.hypot(w.vx[i], w.vy[i]);
    ox += w.vx[i] / s;
    oy += w.vy[i] / s;
  }
  return Math.hypot(ox, oy) / w.count;
}

/**
 * Mean over sampled particles of |mean unit velocity| of the particles
 * within 16 units: local alignment, which grows in crowds even when the
 * whole world has not settled on one heading.
 */
function localOrder(w: World): number {
  const samples = 300;
  let total = 0;
  for (let k = 0; k < samples; k++) {
    const i = (k * 7919) % w.count;
    let ox = 0;
    let oy = 0;
    let n = 0;
    for (let j = 0; j < w.count; j++) {
      const dx = torusDelta(w.x[j], w.x[i], w.size);
      const dy = torusDelta(w.y[j], w.y[i], w.size);
      if (dx * dx + dy * dy < 256) {
        const s = Math.hypot(w.vx[j], w.vy[j]);
        ox += w.vx[j] / s;
        oy += w.vy[j] / s;
        n++;
      }
    }
    total += Math.hypot(ox, oy) / n;
  }
  return total / samples;
}

/**
 * Mean over sampled particles of the distance from a particle to the
 * centroid of the others within 16 units (nearest images): cohesion, low
 * where neighbourhoods are even, about 3 units for a uniform random start.
 */
function centroidOffset(w: World): number {
  const near = (a: number, b: number): number => {
    const d = a - b;
    return d > w.size / 2 ? d - w.size : d < -w.size / 2 ? d + w.size : d;
  };
  const samples = 300;
  let total = 0;
  let used = 0;
  for (let k = 0; k < samples; k++) {
    const i = (k * 7919) % w.count;
    let n = 0;
    let sx = 0;
    let sy = 0;
    for (let j = 0; j < w.count; j++) {
      if (j === i) continue;
      const dx = near(w.x[j], w.x[i]);
      const dy = near(w.y[j], w.y[i]);
      if (dx * dx + dy * dy < 256) {
        sx += dx;
        sy += dy;
        n++;
      }
    }
    if (n === 0) continue;
    total += Math.hypot(sx / n, sy / n);
    used++;
  }
  return total / used;
}

/** A world of `size` x `size` holding `particles`, at capacity. */
function squareWorld(
  size: number,
  particles: number,
  seed: number,
  params: WorldOptions['params'] = {},
  kernel: WorldKernel = JS_KERNEL,
): World {
  return new World({ size, particles, maxParticles: particles, seed, params, kernel });
}

function stepped(w: World, steps: number): World {
  for (let s = 0; s < steps; s++) w.step(DT);
  return w;
}

function expectInBounds(w: World): void {
  let bad = 0;
  for (let i = 0; i < w.count; i++) {
    if (!(w.x[i] >= 0 && w.x[i] < w.size && w.y[i] >= 0 && w.y[i] < w.size)) bad++;
  }
  expect(bad).toBe(0);
}

function expectSpeedsWithinLimits(w: World): void {
  const { minSpeed, maxSpeed } = w.params;
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (let i = 0; i < w.count; i++) {
    const s = Math.hypot(w.vx[i], w.vy[i]);
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  // Float32 storage rounds each component by about 6e-8 relative.
  expect(lo).toBeGreaterThanOrEqual(minSpeed * (1 - 1e-6));
  expect(hi).toBeLessThanOrEqual(maxSpeed * (1 + 1e-6));
}

/** A scripted session touching every input: forces, spawns near seams, removal. */
function script(options: WorldOptions): World {
  const w = new World(options);
  w.setForce(2, 100, 100, 'attract');
  w.setForce(1, 990, 20, 'repel');
  stepped(w, 50);
  expect(w.spawn(500, 999.5, 200)).toBe(true);
  w.setForce(7, 0, 0, 'attract');
  stepped(w, 50);
  w.setForce(2, 600, 400, 'repel');
  w.setForce(7, 0, 0, 'none');
  w.removeForce(1);
  expect(w.spawn(0.2, 0.3, 300)).toBe(true);
  stepped(w, 100);
  return w;
}

describe('World', () => {
  it('starts with the requested particles, in bounds and within speed limits', () => {
    const w = new World({ size: 1000, particles: 5000, maxParticles: 6000, seed: 1 });
    expect(w.count).toBe(5000);
    expect(w.maxParticles).toBe(6000);
    expect(w.x.length).toBe(6000);
    expect(w.forceCount).toBe(0);
    expectInBounds(w);
    expectSpeedsWithinLimits(w);
    // Uniform start: each quadrant holds about a quarter.
    let q = 0;
    for (let i = 0; i < w.count; i++) if (w.x[i] < 500 && w.y[i] < 500) q++;
    expect(Math.abs(q - 1250)).toBeLessThan(150);
    expect(order(w)).toBeLessThan(0.05);
  });

  it('uses the documented defaults', () => {
    const w = new World({ seed: 3 });
    expect(w.size).toBe(1000);
    expect(w.count).toBe(10_000);
    expect(w.maxParticles).toBeGreaterThanOrEqual(10_000);
    expect(w.params).toEqual(BOID_DEFAULTS);
  });

  it('is bit-identical for the same seed and calls, over 200 steps', () => {
    const options = { size: 1000, particles: 3000, maxParticles: 4000, seed: 77 };
    const a = script(options);
    const b = script(options);
    expect(a.count).toBe(3500);
    expect(bits(a)).toEqual(bits(b));
  });

  it('differs for a different seed', () => {
    const a = script({ size: 1000, particles: 3000, maxParticles: 4000, seed: 77 });
    const b = script({ size: 1000, particles: 3000, maxParticles: 4000, seed: 78 });
    const [ax] = bits(a);
    const [bx] = bits(b);
    let same = 0;
    for (let i = 0; i < ax.length; i++) if (ax[i] === bx[i]) same++;
    expect(same).toBeLessThan(ax.length / 100);
  });

  it('applies forces in ownerId order whatever order they were set in', () => {
    const run = (order: number[]): World => {
      const w = squareWorld(1000, 2000, 5);
      for (const id of order)
        w.setForce(id, 480 + id * 10, 500, id % 2 === 0 ? 'attract' : 'repel');
      stepped(w, 60);
      return w;
    };
    const a = run([3, 1, 2, 9]);
    const b = run([9, 2, 1, 3]);
    expect(a.forceCount).toBe(4);
    expect(bits(a)).toEqual(bits(b));
  });

  it('counts, replaces and removes forces per owner', () => {
    const w = new World({ size: 1000, particles: 10, seed: 1 });
    for (let id = 0; id < 20; id++) w.setForce(id, id, id, 'attract');
    expect(w.forceCount).toBe(20);
    w.setForce(5, 1, 1, 'repel');
    expect(w.forceCount).toBe(20);
    w.setForce(5, 1, 1, 'none');
    w.removeForce(6);
    w.removeForce(999);
    expect(w.forceCount).toBe(18);
    expect(() => w.setForce(1, Number.NaN, 0, 'attract')).toThrow(RangeError);
    expect(() => w.setForce(1, 0, 0, 'pull' as never)).toThrow(RangeError);
  });

  it('keeps every position in [0, size) through many steps at the seams', () => {
    const w = new World({ size: 500, particles: 1000, maxParticles: 3000, seed: 9 });
    // Crowds on the seams and corners, pushed across them by forces.
    expect(w.spawn(0, 0, 500)).toBe(true);
    expect(w.spawn(499.999, 250, 500)).toBe(true);
    expect(w.spawn(250, 499.999, 500)).toBe(true);
    w.setForce(1, 0, 0, 'repel');
    w.setForce(2, 499, 250, 'attract');
    w.setForce(3, 250, 1, 'repel');
    for (let s = 0; s < 600; s++) {
      w.step(DT);
      expectInBounds(w);
    }
    expectSpeedsWithinLimits(w);
  });

  it('never stores size when a step lands a hair below 0', () => {
    const w = squareWorld(1000, 2, 1);
    w.x[0] = 0;
    w.y[0] = 500;
    w.vx[0] = -20;
    w.vy[0] = 0;
    w.x[1] = 500;
    w.y[1] = 0;
    w.vx[1] = 0;
    w.vy[1] = -20;
    // -2e-8 + 1000 rounds to exactly 1000 in float32: must become 0.
    w.step(1e-9);
    expect(Math.fround(1000 - 2e-8)).toBe(1000);
    expect(w.x[0]).toBe(0);
    expect(w.y[1]).toBe(0);
    expectInBounds(w);
  });

  it('wraps even a step longer than a world crossing', () => {
    const w = squareWorld(400, 500, 4);
    w.step(100);
    w.step(37.3);
    expectInBounds(w);
    expectSpeedsWithinLimits(w);
  });

  it('keeps speeds within [minSpeed, maxSpeed] under strong forces', () => {
    const w = squareWorld(1000, 4000, 12, { forceStrength: 5000 });
    w.setForce(1, 500, 500, 'attract');
    w.setForce(2, 600, 500, 'repel');
    for (let s = 0; s < 300; s++) {
      w.step(DT);
      if (s % 30 === 0) expectSpeedsWithinLimits(w);
    }
    expectSpeedsWithinLimits(w);
  });

  it('spawns near the point, appending without touching existing particles', () => {
    const w = new World({ size: 1000, particles: 100, maxParticles: 400, seed: 2 });
    w.step(DT);
    const before = bits(w);
    expect(w.spawn(995, 3, 250)).toBe(true);
    expect(w.count).toBe(350);
    const after = bits(w).map((a) => a.subarray(0, 100));
    expect(after).toEqual(before);
    for (let i = 100; i < 350; i++) {
      expect(torusDistance(w, i, 995, 3)).toBeLessThanOrEqual(BOID_DEFAULTS.spawnRadius + 1e-3);
    }
    expectInBounds(w);
    expectSpeedsWithinLimits(w);
    expect(w.spawn(0, 0, 0)).toBe(true);
    expect(w.count).toBe(350);
  });

  it('refuses a spawn past maxParticles and changes nothing, not even the PRNG', () => {
    const make = (): World => new World({ size: 1000, particles: 90, maxParticles: 100, seed: 8 });
    const a = make();
    const b = make();
    const before = bits(a);
    expect(a.spawn(10, 10, 11)).toBe(false);
    expect(a.count).toBe(90);
    expect(bits(a)).toEqual(before);
    // Both now take the same path; a refused spawn must not have drawn numbers.
    expect(a.spawn(10, 10, 10)).toBe(true);
    expect(b.spawn(10, 10, 10)).toBe(true);
    expect(a.count).toBe(100);
    expect(bits(a)).toEqual(bits(b));
    expect(a.spawn(10, 10, 1)).toBe(false);
    expect(() => a.spawn(0, 0, -1)).toThrow(RangeError);
    expect(() => a.spawn(0, 0, 1.5)).toThrow(RangeError);
    expect(() => a.spawn(Number.NaN, 0, 1)).toThrow(RangeError);
  });

  it('refuses inconsistent options', () => {
    expect(() => new World({ particles: 10, maxParticles: 5, seed: 1 })).toThrow(RangeError);
    expect(() => new World({ size: 200, seed: 1 })).toThrow(/forceRadius/);
    expect(
      () => new World({ size: 40, particles: 1, seed: 1, params: { forceRadius: 10 } }),
    ).toThrow(RangeError);
    expect(() => new World({ seed: 1, params: { maxSpeed: 100 } })).toThrow(/maxSpeed/);
    const w = new World({ size: 1000, particles: 1, seed: 1 });
    expect(() => w.step(Number.NaN)).toThrow(RangeError);
    expect(() => w.step(-1)).toThrow(RangeError);
  });

  // Flock quality, and the params that shape it, held to the same bounds on
  // every kernel: gathering at a pointer, local and global alignment,
  // cohesion, crowding, the steering budget.
  describe.each(KERNELS)('on the %s kernel', (_name, kernel) => {
    const world = (
      size: number,
      particles: number,
      seed: number,
      params: WorldOptions['params'] = {},
    ): World => squareWorld(size, particles, seed, params, kernel());

    describe('player forces', () => {
      // The point sits on a corner so the pull and push cross both seams.
      const PX = 990;
      const PY = 10;

      function meanDistanceAfter(
        mode: 'attract' | 'repel' | 'none',
        seconds: number,
      ): [number, number] {
        const w = world(1000, 3000, 11);
        const tracked: number[] = [];
        for (let i = 0; i < w.count; i++) {
          if (torusDistance(w, i, PX, PY) < w.params.forceRadius) tracked.push(i);
        }
        const mean = (): number =>
          tracked.reduce((sum, i) => sum + torusDistance(w, i, PX, PY), 0) / tracked.length;
        const start = mean();
        w.setForce(1, PX, PY, mode);
        stepped(w, seconds * 60);
        return [start, mean()];
      }

      it('attract gathers particles toward the point within 2 s', () => {
        const [start, end] = meanDistanceAfter('attract', 2);
        expect(start).toBeGreaterThan(80);
        expect(end).toBeLessThan(start * 0.7);
      });

      it('repel drives particles away from the point within 2 s', () => {
        const [start, end] = meanDistanceAfter('repel', 2);
        expect(end).toBeGreaterThan(start * 1.3);
      });

      it('no force leaves the spread roughly as it was', () => {
        const [start, end] = meanDistanceAfter('none', 2);
        expect(end / start).toBeGreaterThan(0.85);
        expect(end / start).toBeLessThan(1.15);
      });
    });

    it("coheres: particles sit nearer their neighbours' centroid than at random", () => {
      const w = world(300, 1500, 5);
      const start = centroidOffset(w);
      stepped(w, 300);
      // About 2.9 at the random start, 1.95 after 5 s on the JS kernel.
      expect(start).toBeGreaterThan(2.5);
      expect(centroidOffset(w)).toBeLessThan(start * 0.8);
    });

    it('flocks: the velocity order parameter grows from a random start', () => {
      const w = world(300, 1500, 5);
      const start = order(w);
      stepped(w, 300);
      const end = order(w);
      expect(start).toBeLessThan(0.1);
      expect(end).toBeGreaterThan(0.25);
      expect(end).toBeGreaterThan(start * 3);
    });

    it('the candidate cap changes nothing where it does not bind', () => {
      // 500 particles in 1000 x 1000: a 3x3 block holds ~1, far under any cap.
      const run = (maxCandidates: number) => stepped(world(1000, 500, 6, { maxCandidates }), 120);
      expect(bits(run(0))).toEqual(bits(run(32)));
    });

    describe('crowding (4000 particles in 300 x 300, like 44k in the default world)', () => {
      const run = (maxCandidates: number, seed: number): [World, number] => {
        const w = world(300, 4000, seed, { maxCandidates });
        const start = localOrder(w);
        return [stepped(w, 240), start];
      };

      it('the cap binds: half-radius neighbourhoods differ from uncapped', () => {
        expect(bits(run(64, 6)[0])).not.toEqual(bits(run(0, 6)[0]));
      });

      it('half-radius neighbourhoods still flock locally', () => {
        const [w, start] = run(64, 6);
        const end = localOrder(w);
        expect(start).toBeLessThan(0.2);
        expect(end).toBeGreaterThan(0.5);
        expectSpeedsWithinLimits(w);
      });

      it('stride sampling, the last resort, still aligns locally', () => {
        const [w, start] = run(12, 6);
        const end = localOrder(w);
        expect(end).toBeGreaterThan(0.28);
        expect(end).toBeGreaterThan(start * 2);
        expectSpeedsWithinLimits(w);
      });
    });

    describe('steering budget', () => {
      it('changes nothing while count <= steerInterval x steerBudget', () => {
        const run = (steerBudget: number) => stepped(world(300, 1500, 8, { steerBudget }), 60);
        expect(bits(run(750))).toEqual(bits(run(0)));
        expect(bits(run(749))).not.toEqual(bits(run(0)));
      });

      it('a crowded world steered 4x less often still flocks locally', () => {
        // 4000 particles on a budget of 1000: each steers every 4th step, as
        // 50,000 do in the default world on the default budget.
        const run = (steerBudget: number): [number, number] => {
          const w = world(300, 4000, 6, { steerBudget });
          const start = localOrder(w);
          expectSpeedsWithinLimits(stepped(w, 240));
          return [start, localOrder(w)];
        };
        const [start, sliced] = run(1000);
        const [, full] = run(0);
        expect(start).toBeLessThan(0.2);
        expect(sliced).toBeGreaterThan(0.5);
        expect(sliced).toBeGreaterThan(full * 0.85);
      });

      it('never stretches the interval past maxBudgetInterval, where flocks break up', () => {
        const run = (steerBudget: number) => stepped(world(300, 4000, 6, { steerBudget }), 30);
        // Budgets of 1000 and 100 would ask for intervals 4 and 40: both get 4.
        expect(bits(run(100))).toEqual(bits(run(1000)));
      });
    });

    it('steers every particle every step with steerInterval 1 and still flocks', () => {
      const w = world(300, 1500, 5, { steerInterval: 1 });
      stepped(w, 300);
      expect(order(w)).toBeGreaterThan(0.25);
    });
  });
});
