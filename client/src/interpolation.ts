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
 *
 * Viewport subscriptions: a frame may hold only some particles (a presence
 * mask by index; none means all). A particle is its index in every frame,
 * so one present in both frames around the drawn tick glides between them,
 * wherever it moved in the view; one present only in the newer frame (it
 * just entered the view) is drawn where that frame has it, not slid from
 * wherever stale codes say; one absent from the newer frame is not drawn.
 */

interface Snapshot {
  tick: number;
  count: number;
  codes: Uint16Array;
  /** 1 per index held (a view frame); `masked` false: every particle is. */
  present: Uint8Array;
  masked: boolean;
  /** Particles held: count, or the ones present. */
  held: number;
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

  /** Particles held in the newest frame (of a view frame, those in view). */
  get newestCount(): number {
    return this.#snapshots.at(-1)?.held ?? 0;
  }

  clear(): void {
    this.#pool.push(...this.#snapshots);
    this.#snapshots = [];
  }

  /**
   * Stores a copy of frame `tick` (interleaved x, y codes, 2 * count long).
   * A tick not after the newest held is ignored: frames only move forward.
   */
  push(tick: number, codes: Uint16Array, count: number, present?: Uint8Array): void {
    if (tick <= this.newestTick) return;
    const snapshot =
      this.#snapshots.length >= this.#capacity
        ? this.#snapshots.shift()!
        : (this.#pool.pop() ?? {
            tick: 0,
            count: 0,
            codes: new Uint16Array(0),
            present: new Uint8Array(0),
            masked: false,
            held: 0,
          });
    if (snapshot.codes.length < 2 * count) {
      // Grow with headroom: spawns add particles a few hundred at a time.
      snapshot.codes = new Uint16Array(Math.ceil(2 * count * 1.25));
    }
    snapshot.codes.set(codes.subarray(0, 2 * count));
    snapshot.tick = tick;
    snapshot.count = count;
    snapshot.masked = present !== undefined;
    snapshot.held = count;
    if (present) {
      if (snapshot.present.length < count)
        snapshot.present = new Uint8Array(Math.ceil(count * 1.25));
      snapshot.present.set(present.subarray(0, count));
      let held = 0;
      for (let i = 0; i < count; i++) held += present[i];
      snapshot.held = held;
    }
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
    if (from.masked || to.masked) return this.#fillMasked(from, to, alpha);
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

  /**
   * `#fill` when either frame holds only some particles: the ones `to`
   * holds, packed; interpolated where `from` holds them too, else at their
   * place in `to` (just entered the view: nothing to slide from).
   */
  #fillMasked(from: Snapshot, to: Snapshot, alpha: number): Sample {
    const count = to.count;
    if (this.#out.length < 4 * to.held) this.#out = new Float32Array(Math.ceil(4 * to.held * 1.25));
    const out = this.#out;
    const a = from.codes;
    const b = to.codes;
    const levels = this.#levels;
    const half = levels / 2;
    const scale = this.#scale;
    const size = this.#worldSize;
    const perSecond = from === to ? 0 : (scale * this.#tickRate) / (to.tick - from.tick);
    let k = 0;
    for (let i = 0; i < count; i++) {
      if (to.masked && to.present[i] === 0) continue;
      const bx = b[2 * i];
      const by = b[2 * i + 1];
      if (i >= from.count || (from.masked && from.present[i] === 0)) {
        out[k] = bx * scale;
        out[k + 1] = by * scale;
        out[k + 2] = 0;
        out[k + 3] = 0;
        k += 4;
        continue;
      }
      const ax = a[2 * i];
      const ay = a[2 * i + 1];
      let dx = bx - ax;
      let dy = by - ay;
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
      out[k] = x;
      out[k + 1] = y;
      // Just below worldSize can round up to it in float32: that is 0 on the torus.
      if (out[k] >= size) out[k] = 0;
      if (out[k + 1] >= size) out[k + 1] = 0;
      out[k + 2] = dx * perSecond;
      out[k + 3] = dy * perSecond;
      k += 4;
    }
    return { count: k / 4, data: out };
  }
}
