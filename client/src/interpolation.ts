/**
 * The interpolation buffer: the last few frames as received (quantized
 * codes, copied out of the decoder), and the state between two of them at a
 * fractional tick. Output is one Float32Array, four floats per particle:
 * x, y in world units in [0, worldSize), and vx, vy in world units per second
 * (the renderer colours by them).
 *
 * Frames are placed on their own ticks, so a gap (frames the server skipped)
 * is just a longer segment: motion slows to the real pace instead of
 * stalling. Each coordinate moves along the shortest way round the torus, so
 * a particle crossing the seam glides across instead of sweeping the world.
 */

interface Snapshot {
  tick: number;
  count: number;
  codes: Uint16Array;
}

export interface Sample {
  /** Particles in `data`. */
  count: number;
  /** x, y, vx, vy per particle; valid up to 4 * count (the array may be longer). */
  data: Float32Array;
}

/** Snapshots kept when the caller does not say: 16 ticks is 267 ms at 60 Hz. */
export const DEFAULT_SNAPSHOTS = 16;

export class InterpolationBuffer {
  readonly #worldSize: number;
  readonly #levels: number;
  readonly #scale: number;
  readonly #capacity: number;
  readonly #tickRate: number;
  /** Oldest first; ticks strictly increasing. */
  #snapshots: Snapshot[] = [];
  /** Retired snapshots whose arrays are reused, so steady state allocates nothing. */
  #pool: Snapshot[] = [];
  #out = new Float32Array(0);

  /**
   * @param tickRate server ticks per second: velocities come out per second.
   * @param capacity snapshots kept: enough to cover the playout delay plus
   *   jitter (the caller sizes it from delay and tick rate).
   */
  constructor(
    worldSize: number,
    quantBits: number,
    tickRate: number,
    capacity = DEFAULT_SNAPSHOTS,
  ) {
    this.#worldSize = worldSize;
    this.#tickRate = tickRate;
    this.#levels = 2 ** quantBits;
    this.#scale = worldSize / this.#levels;
    this.#capacity = Math.max(2, capacity);
  }

  get size(): number {
    return this.#snapshots.length;
  }

  get newestTick(): number {
    return this.#snapshots.at(-1)?.tick ?? -1;
  }

  get oldestTick(): number {
    return this.#snapshots[0]?.tick ?? -1;
  }

  /** Particle count of the newest frame. */
  get newestCount(): number {
    return this.#snapshots.at(-1)?.count ?? 0;
  }

  clear(): void {
    this.#pool.push(...this.#snapshots);
    this.#snapshots = [];
  }

  /**
   * Stores a copy of frame `tick` (interleaved x, y codes, 2 * count long).
   * A tick not after the newest held is ignored: frames only move forward.
   */
  push(tick: number, codes: Uint16Array, count: number): void {
    if (tick <= this.newestTick) return;
    const snapshot =
      this.#snapshots.length >= this.#capacity
        ? this.#snapshots.shift()!
        : (this.#pool.pop() ?? { tick: 0, count: 0, codes: new Uint16Array(0) });
    if (snapshot.codes.length < 2 * count) {
      // Grow with headroom: spawns add particles a few hundred at a time.
      snapshot.codes = new Uint16Array(Math.ceil(2 * count * 1.25));
    }
    snapshot.codes.set(codes.subarray(0, 2 * count));
    snapshot.tick = tick;
    snapshot.count = count;
    this.#snapshots.push(snapshot);
  }

  /**
   * The state at fractional tick `renderTick`. Before the oldest frame it
   * shows the oldest, after the newest it holds the newest (with the last
   * known velocities, so colours do not flicker while holding).
   */
  sample(renderTick: number): Sample {
    const snaps = this.#snapshots;
    if (snaps.length === 0) return { count: 0, data: this.#out };
    if (snaps.length === 1) return this.#fill(snaps[0], snaps[0], 0);
    let b = 1;
    while (b < snaps.length - 1 && snaps[b].tick <= renderTick) b++;
    const from = snaps[b - 1];
    const to = snaps[b];
    const alpha = Math.min(1, Math.max(0, (renderTick - from.tick) / (to.tick - from.tick)));
    return this.#fill(from, to, alpha);
  }

  #fill(from: Snapshot, to: Snapshot, alpha: number): Sample {
    const count = to.count;
    if (this.#out.length < 4 * count) this.#out = new Float32Array(Math.ceil(4 * count * 1.25));
    const out = this.#out;
    const a = from.codes;
    const b = to.codes;
    const levels = this.#levels;
    const half = levels / 2;
    const scale = this.#scale;
    const size = this.#worldSize;
    const perSecond = from === to ? 0 : (scale * this.#tickRate) / (to.tick - from.tick);
    // Particles only append between keyframes, so index i is the same
    // particle in both frames for i below the older count.
    const shared = Math.min(from.count, count);
    for (let i = 0; i < shared; i++) {
      const j = 2 * i;
      const ax = a[j];
      const ay = a[j + 1];
      let dx = b[j] - ax;
      let dy = b[j + 1] - ay;
      // Shortest way round the torus (codes wrap at `levels`).
      if (dx > half) dx -= levels;
      else if (dx < -half) dx += levels;
      if (dy > half) dy -= levels;
      else if (dy < -half) dy += levels;
      let x = (ax + dx * alpha) * scale;
      let y = (ay + dy * alpha) * scale;
      if (x < 0) x += size;
      else if (x >= size) x -= size;
      if (y < 0) y += size;
      else if (y >= size) y -= size;
      const k = 4 * i;
      out[k] = x;
      out[k + 1] = y;
      // Just below worldSize can round up to it in float32: that is 0 on the torus.
      if (out[k] >= size) out[k] = 0;
      if (out[k + 1] >= size) out[k + 1] = 0;
      out[k + 2] = dx * perSecond;
      out[k + 3] = dy * perSecond;
    }
    // Spawned since `from`: they appear where the newer frame has them.
    for (let i = shared; i < count; i++) {
      const k = 4 * i;
      out[k] = b[2 * i] * scale;
      out[k + 1] = b[2 * i + 1] * scale;
      out[k + 2] = 0;
      out[k + 3] = 0;
    }
    return { count, data: out };
  }
}
