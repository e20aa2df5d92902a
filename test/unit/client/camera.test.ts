import { describe, expect, it } from 'vitest';
import { Camera } from '../../../client/src/camera.js';

function camera(): Camera {
  const c = new Camera(1000);
  c.setViewport(800, 500);
  return c;
}

describe('Camera', () => {
  it('starts centred with the world once across the longer side, filling the view', () => {
    const c = camera();
    expect(c.zoom).toBeCloseTo(0.8);
    expect(c.screenToWorld(400, 250)).toEqual({ x: 500, y: 500 });
    const { x0, y0, x1, y1 } = c.viewRect();
    // One world across, no second copy; the shorter side shows part of it.
    expect(x0).toBeCloseTo(0, 9);
    expect(x1).toBeCloseTo(1000, 9);
    expect(y0).toBeCloseTo(187.5, 9);
    expect(y1).toBeCloseTo(812.5, 9);
  });

  it('shows the world once on a portrait phone too', () => {
    const c = new Camera(1000);
    c.setViewport(390, 844);
    const { x0, y0, x1, y1 } = c.viewRect();
    expect(y1 - y0).toBeCloseTo(1000, 9);
    expect(x1 - x0).toBeLessThan(1000);
    expect(c.zoom).toBeGreaterThanOrEqual(c.minZoom);
    expect(c.zoom).toBeLessThanOrEqual(c.maxZoom);
  });

  it('wraps screen points into the world for the server', () => {
    const c = camera();
    const p = c.screenToWrappedWorld(-100, 0); // 125 world units left of x = 0
    expect(p.x).toBeCloseTo(875, 9);
    expect(p.y).toBeCloseTo(187.5, 9);
    expect(c.wrap(-1e-14)).toBe(0);
    expect(c.wrap(1000)).toBe(0);
    expect(c.wrap(2345)).toBe(345);
  });

  it('pans with the drag and wraps its centre around the torus', () => {
    const c = camera();
    c.panByScreen(100, 0); // drag right: the world moves right, the centre left
    expect(c.centerX).toBeCloseTo(375);
    c.panByScreen(400, 0);
    expect(c.centerX).toBeCloseTo(875); // 375 - 500 wraps to 875
  });

  it('zooms about the pointer: the world point under it stays under it', () => {
    const c = camera();
    const before = c.screenToWorld(600, 100);
    c.zoomAt(600, 100, 3);
    expect(c.zoom).toBeCloseTo(2.4);
    const after = c.screenToWorld(600, 100);
    expect(after.x).toBeCloseTo(before.x, 6);
    expect(after.y).toBeCloseTo(before.y, 6);
  });

  it('clamps zoom so the view never shows more than a few worlds', () => {
    const c = camera();
    c.zoomAt(400, 250, 1e-6);
    expect(c.zoom).toBe(c.minZoom);
    const { x0, x1 } = c.viewRect();
    expect(x1 - x0).toBeLessThanOrEqual(3 * 1000 + 1e-9);
    c.zoomAt(400, 250, 1e9);
    expect(c.zoom).toBe(c.maxZoom);
  });

  it('refits when the lobby has another world size', () => {
    const c = camera();
    c.zoomAt(0, 0, 4);
    c.setWorldSize(2000);
    expect(c.zoom).toBeCloseTo(0.4);
    expect(c.centerX).toBe(1000);
  });
});
