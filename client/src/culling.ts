/**
 * Culling: from the interpolated state, the particles that are on screen,
 * before anything is uploaded to the GPU, and the copies of the world the
 * view needs. The view may cross the world's seam (or, zoomed out, show the
 * world several times); each copy of the world it touches is a "span" per
 * axis. The renderer draws the uploaded particles once per copy, shifted by
 * that copy's offset, which is what makes the wrap seamless: the particles
 * beyond the seam are drawn there.
 *
 * A particle is kept when it is inside some span on x and some span on y,
 * that is, visible in at least one copy (the union of the products of spans
 * is the product of their unions). In the common case of one copy that is
 * exactly the view; across a seam a kept particle may also be drawn,
 * off-screen, in another copy, where the GPU clips it.
 *
 * No margin for the dots' radius: a point sprite whose centre is outside
 * the view is clipped whole by the GPU anyway (OpenGL ES point clipping),
 * and a margin would add a copy of the world for a sliver of nothing.
 */
import type { ViewRect } from './camera.js';

/** One copy of the world along one axis: particles with from <= v < to are visible at v + offset. */
export interface Span {
  offset: number;
  from: number;
  to: number;
}

/** A span narrower than this share of the world is rounding, not view. */
const SLIVER = 1e-9;

/** The copies of [0, size) that the interval [lo, hi] touches, with the part of each in view. */
export function wrapSpans(lo: number, hi: number, size: number): Span[] {
  const spans: Span[] = [];
  for (let k = Math.floor(lo / size); k * size <= hi; k++) {
    const offset = k * size;
    const from = Math.max(0, lo - offset);
    const to = Math.min(size, hi - offset);
    // A sliver from rounding (a view exactly one world wide ends at
    // 1000.0000000000001) is no copy: drawing one would draw everything twice.
    if (to - from > size * SLIVER) spans.push({ offset, from, to });
  }
  return spans;
}

/** Whether some span holds v. */
const inSpans = (v: number, spans: Span[]): boolean => {
  for (const s of spans) if (v >= s.from && v < s.to) return true;
  return false;
};

export class Culler {
  /** Kept particles: x, y, vx, vy each; valid up to 4 * the count `cull` returned. */
  data = new Float32Array(0);
  /** World copies to draw: x, y offset each; valid up to 2 * `copyCount`. */
  copies = new Float32Array(2);
  copyCount = 0;

  /**
   * Keeps the particles of `state` (laid out as the interpolation buffer's:
   * x, y, vx, vy) visible in the view, sets `copies`, and returns how many
   * particles it kept.
   */
  cull(state: Float32Array, count: number, view: ViewRect, worldSize: number): number {
    const xs = wrapSpans(view.x0, view.x1, worldSize);
    const ys = wrapSpans(view.y0, view.y1, worldSize);
    this.#setCopies(xs, ys);
    if (this.data.length < 4 * count) this.data = new Float32Array(Math.ceil(4 * count * 1.25));
    const out = this.data;
    let n = 0;
    // One span per axis (no seam in view) is the common case: a tight loop.
    const single = xs.length === 1 && ys.length === 1;
    const fx = xs[0]?.from ?? 0;
    const tx = xs[0]?.to ?? 0;
    const fy = ys[0]?.from ?? 0;
    const ty = ys[0]?.to ?? 0;
    for (let k = 0, end = 4 * count; k < end; k += 4) {
      const x = state[k];
      const y = state[k + 1];
      if (single ? x < fx || x >= tx || y < fy || y >= ty : !inSpans(x, xs) || !inSpans(y, ys))
        continue;
      out[n] = x;
      out[n + 1] = y;
      out[n + 2] = state[k + 2];
      out[n + 3] = state[k + 3];
      n += 4;
    }
    return n / 4;
  }

  #setCopies(xs: Span[], ys: Span[]): void {
    const needed = 2 * xs.length * ys.length;
    if (this.copies.length < needed) this.copies = new Float32Array(needed);
    let i = 0;
    for (const sx of xs) {
      for (const sy of ys) {
        this.copies[i++] = sx.offset;
        this.copies[i++] = sy.offset;
      }
    }
    this.copyCount = i / 2;
  }
}
