import { describe, expect, it } from 'vitest';
import { Camera } from '../../../client/src/camera.js';

function camera(): Camera {
  const c = new Camera(1000);
  c.setViewport(800, 500);
  return c;
}

describe('Camera', () => {
  it('starts with the whole world fitted to the shorter side, centred', () => {
    const c = camera();
    expect(c.zoom).toBeCloseTo(0.5);
    expect(c.screenToWorld(400, 250)).toEqual({ x: 500, y: 500 });
    expect(c.screenToWorld(0, 0)).toEqual({ x: -300, y: 0 });
    expect(c.viewRect()).toEqual({ x0: -300, y0: 0, x1: 1300, y1: 1000 });
  });

  it('wraps screen points into the world for the server', () => {
    const c = camera();
    expect(c.screenToWrappedWorld(0, 0)).toEqual({ x: 700, y: 0 });
    expect(c.wrap(-1e-14)).toBe(0);
    expect(c.wrap(1000)).toBe(0);
    expect(c.wrap(2345)).toBe(345);
  });

  it('pans with the drag and wraps its centre around the torus', () => {
    const c = camera();
    c.panByScreen(100, 0); // drag right: the world moves right, the centre left
    expect(c.centerX).toBeCloseTo(300);
    c.panByScreen(400, 0);
    expect(c.centerX).toBeCloseTo(500); // 300 - 800 wraps to 500
  });

  it('zooms about the pointer: the world point under it stays under it', () => {
    const c = camera();
    const before = c.screenToWorld(600, 100);
    c.zoomAt(600, 100, 3);
    expect(c.zoom).toBeCloseTo(1.5);
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
    expect(c.zoom).toBeCloseTo(0.25);
    expect(c.centerX).toBe(1000);
  });
});
