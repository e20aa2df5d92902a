/** When the page asks for a view, and what: zoomed in only, with margins, debounced, wrapped. */
import { describe, expect, it } from 'vitest';
import {
  SEND_INTERVAL_MS,
  type RequestedView,
  ViewSubscription,
  wantedView,
} from '../../../client/src/view-subscription.js';

const W = 1000;
const rect = (x0: number, y0: number, w: number, h: number) => ({ x0, y0, x1: x0 + w, y1: y0 + h });

describe('ViewSubscription', () => {
  it('asks for nothing zoomed out, and for the view plus margins zoomed in', () => {
    expect(wantedView(rect(0, 0, 1000, 750), W)).toBeUndefined();
    expect(wantedView(rect(-500, -500, 3000, 2000), W)).toBeUndefined();
    const v = wantedView(rect(100, 100, 200, 100), W)!;
    expect(v.w).toBeCloseTo(300);
    expect(v.h).toBeCloseTo(150);
    expect(v.x).toBeCloseTo(50);
    expect(v.y).toBeCloseTo(75);
    // Across the seam the corner wraps into the world.
    const seam = wantedView(rect(-30, 990, 100, 100), W)!;
    expect(seam.x).toBeCloseTo(945);
    expect(seam.y).toBeCloseTo(965);
  });

  it('sends once, again when the view leaves what it asked for or zooms, debounced, and after a reset', () => {
    const sent: (RequestedView | undefined)[] = [];
    const sub = new ViewSubscription((view) => {
      sent.push(view);
      return true;
    });
    let now = 0;
    sub.update(rect(0, 0, 1000, 750), W, now);
    expect(sent).toEqual([]); // whole world is the default: nothing to say
    sub.update(rect(100, 100, 200, 100), W, (now += 16));
    expect(sent.length).toBe(1);
    sub.update(rect(120, 110, 200, 100), W, (now += 16)); // inside the margin
    expect(sent.length).toBe(1);
    sub.update(rect(300, 100, 200, 100), W, (now += 16)); // out, but too soon
    expect(sent.length).toBe(1);
    sub.update(rect(300, 100, 200, 100), W, (now += SEND_INTERVAL_MS));
    expect(sent.length).toBe(2);
    sub.update(rect(300, 100, 100, 50), W, (now += SEND_INTERVAL_MS)); // zoomed in further
    expect(sent.length).toBe(3);
    sub.update(rect(0, 0, 1000, 750), W, (now += SEND_INTERVAL_MS)); // zoomed out
    expect(sent.at(-1)).toBeUndefined();
    expect(sent.length).toBe(4);
    sub.update(rect(100, 100, 200, 100), W, (now += SEND_INTERVAL_MS));
    sub.reset(); // a new socket: it starts whole again
    sub.update(rect(100, 100, 200, 100), W, (now += 1));
    expect(sent.length).toBe(6);
  });

  it('keeps asking while there is no socket to send on', () => {
    let live = false;
    const sub = new ViewSubscription(() => live);
    sub.update(rect(100, 100, 200, 100), W, 0);
    expect(sub.requested).toBeUndefined();
    live = true;
    sub.update(rect(100, 100, 200, 100), W, 1);
    expect(sub.requested).toBeDefined();
  });
});
