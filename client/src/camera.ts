/**
 * The view onto the torus: a centre in world units and a zoom in CSS pixels
 * per world unit, over a viewport measured in CSS pixels. Screen y points
 * down and so does world y. The centre always wraps back into the world:
 * the world repeats, so panning never reaches an edge.
 */

export interface ViewRect {
  /** World-space bounds of what is on screen; may extend past [0, worldSize). */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Closest zoom relative to "whole world fits the shorter side". */
const MAX_ZOOM_FACTOR = 40;
/** Farthest zoom relative to "whole world fits the shorter side": shows the world repeating. */
const MIN_ZOOM_FACTOR = 0.5;
/** However wide the window, never show more than this many worlds across (bounds wrapped copies). */
const MAX_WORLDS_ACROSS = 3;

export class Camera {
  worldSize: number;
  centerX: number;
  centerY: number;
  zoom = 1;
  viewWidth = 1;
  viewHeight = 1;

  constructor(worldSize: number) {
    this.worldSize = worldSize;
    this.centerX = worldSize / 2;
    this.centerY = worldSize / 2;
  }

  /** A lobby with another world size (a reconnect may land on one): back to the default view. */
  setWorldSize(worldSize: number): void {
    if (worldSize === this.worldSize) return;
    this.worldSize = worldSize;
    this.fit();
  }

  /** Zoom at which the whole world fits the shorter side of the viewport (zoom bounds are relative to it). */
  get fitZoom(): number {
    return Math.min(this.viewWidth, this.viewHeight) / this.worldSize;
  }

  /**
   * The default zoom: the world spans the viewport's longer side exactly
   * once. Why the longer side: on a torus "the whole world" and "once" only
   * agree on a square screen. Fitting the shorter side (the old default)
   * fills the longer one with a second, partial copy of the world: 1.33
   * worlds across at 4:3, 1.78 at 16:9, so one attracted cluster showed as
   * two. A letterbox would draw an edge the world does not have. Covering
   * the screen once shows every point at most once and leaves no empty
   * band; the part beyond the shorter side is a pan away, and panning wraps.
   */
  get defaultZoom(): number {
    return Math.max(this.viewWidth, this.viewHeight) / this.worldSize;
  }

  get minZoom(): number {
    return Math.max(
      this.fitZoom * MIN_ZOOM_FACTOR,
      Math.max(this.viewWidth, this.viewHeight) / (MAX_WORLDS_ACROSS * this.worldSize),
    );
  }

  get maxZoom(): number {
    return this.fitZoom * MAX_ZOOM_FACTOR;
  }

  /** New viewport size (CSS px); keeps the centre and the zoom within bounds. */
  setViewport(width: number, height: number): void {
    const first = this.viewWidth === 1 && this.viewHeight === 1;
    this.viewWidth = Math.max(1, width);
    this.viewHeight = Math.max(1, height);
    if (first) this.fit();
    else this.zoom = this.#clampZoom(this.zoom);
  }

  /** The default view: centred, the world once across the longer side (see defaultZoom). */
  fit(): void {
    this.centerX = this.worldSize / 2;
    this.centerY = this.worldSize / 2;
    this.zoom = this.#clampZoom(this.defaultZoom);
  }

  /** World point under a screen point (CSS px from the viewport's top left), not wrapped. */
  screenToWorld(sx: number, sy: number): { x: number; y: number } {
    return {
      x: this.centerX + (sx - this.viewWidth / 2) / this.zoom,
      y: this.centerY + (sy - this.viewHeight / 2) / this.zoom,
    };
  }

  /** Same, wrapped into [0, worldSize): what the server accepts. */
  screenToWrappedWorld(sx: number, sy: number): { x: number; y: number } {
    const p = this.screenToWorld(sx, sy);
    return { x: this.wrap(p.x), y: this.wrap(p.y) };
  }

  /** Moves the view by a drag of (dx, dy) CSS px: the world follows the pointer. */
  panByScreen(dx: number, dy: number): void {
    this.centerX = this.wrap(this.centerX - dx / this.zoom);
    this.centerY = this.wrap(this.centerY - dy / this.zoom);
  }

  /** Multiplies the zoom by `factor`, keeping the world point under (sx, sy) where it is. */
  zoomAt(sx: number, sy: number, factor: number): void {
    const before = this.screenToWorld(sx, sy);
    this.zoom = this.#clampZoom(this.zoom * factor);
    const after = this.screenToWorld(sx, sy);
    this.centerX = this.wrap(this.centerX + before.x - after.x);
    this.centerY = this.wrap(this.centerY + before.y - after.y);
  }

  /** What is on screen, in world units. */
  viewRect(): ViewRect {
    const hw = this.viewWidth / 2 / this.zoom;
    const hh = this.viewHeight / 2 / this.zoom;
    return {
      x0: this.centerX - hw,
      y0: this.centerY - hh,
      x1: this.centerX + hw,
      y1: this.centerY + hh,
    };
  }

  /** v into [0, worldSize). */
  wrap(v: number): number {
    const s = this.worldSize;
    const r = v % s;
    const w = r < 0 ? r + s : r;
    // -1e-14 + s rounds to s, which the server refuses: that point is 0 on the torus.
    return w >= s ? 0 : w;
  }

  #clampZoom(zoom: number): number {
    return Math.min(this.maxZoom, Math.max(this.minZoom, zoom));
  }
}
