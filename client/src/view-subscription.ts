/**
 * Viewport subscriptions from the page's side: when the camera shows less
 * than ZOOMED_IN_SHARE of the world, ask the server for just the visible
 * rectangle plus a margin (`view`), so a zoomed-in player downloads only
 * what it can see; zoomed out, the whole world again. Debounced: a new
 * request goes out when the view leaves the requested rectangle or its
 * size changes by more than RESIZE_SLACK, at most one per SEND_INTERVAL_MS.
 * Pure bookkeeping over a send function, so it is tested without a socket.
 */
import type { ViewRect as CameraRect } from './camera.js';

/** The rectangle asked for, world units (x, y wrapped into the world). */
export interface RequestedView {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Below this share of the world's area on screen, subscribe to the view.
 * With the margin the request covers 2.25x the screen. Chosen on protocol
 * 2, when tiles cost more per particle than whole frames (a view of 10% of
 * the world got 31% of the bytes, 25% got 70%, 50% got 132%): on screen at
 * most 10% (requested at most 22.5%). On protocol 3 (second-order tiles,
 * bench:view) 10% gets 15%, 25% gets 32%, 50% gets 60%, so larger views
 * would pay too; raising this is left for a measurement in the browser.
 */
export const ZOOMED_IN_SHARE = 0.1;
/**
 * Margin added on each side, as a share of the view's width or height:
 * panning that far needs no new request, and particles coming into view
 * are already held (with their motion) before they show.
 */
export const VIEW_MARGIN_SHARE = 0.25;
/** A view this much larger or smaller than the one requested is asked for again. */
const RESIZE_SLACK = 0.25;
/** At most one request per this many ms while panning or zooming. */
export const SEND_INTERVAL_MS = 200;

export class ViewSubscription {
  readonly #send: (view: RequestedView | undefined) => boolean;
  /** What the server was last asked for on this socket (undefined: the whole world, its default). */
  #requested: RequestedView | undefined;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  /** Requests sent (for the debug snapshot). */
  sent = 0;

  /** `send` returns false when there is no live socket (nothing was sent). */
  constructor(send: (view: RequestedView | undefined) => boolean) {
    this.#send = send;
  }

  get requested(): RequestedView | undefined {
    return this.#requested;
  }

  /** A new socket: it starts with the whole world. */
  reset(): void {
    this.#requested = undefined;
    this.#lastSentAt = Number.NEGATIVE_INFINITY;
  }

  /** The camera shows `rect`: ask for something else if it needs to (debounced). */
  update(rect: CameraRect, worldSize: number, now: number): void {
    const wanted = wantedView(rect, worldSize);
    if (!this.#stale(rect, wanted, worldSize)) return;
    if (now - this.#lastSentAt < SEND_INTERVAL_MS) return;
    if (!this.#send(wanted)) return;
    this.#requested = wanted;
    this.#lastSentAt = now;
    this.sent++;
  }

  #stale(rect: CameraRect, wanted: RequestedView | undefined, worldSize: number): boolean {
    const have = this.#requested;
    if (!wanted || !have) return wanted !== have;
    const w = rect.x1 - rect.x0;
    const h = rect.y1 - rect.y0;
    const resized =
      Math.abs(wanted.w - have.w) > RESIZE_SLACK * have.w ||
      Math.abs(wanted.h - have.h) > RESIZE_SLACK * have.h;
    return (
      resized ||
      !within(rect.x0, w, have.x, have.w, worldSize) ||
      !within(rect.y0, h, have.y, have.h, worldSize)
    );
  }
}

/** The view to ask for: undefined when zoomed out, else the visible rectangle plus margins. */
export function wantedView(rect: CameraRect, worldSize: number): RequestedView | undefined {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  if (w * h >= ZOOMED_IN_SHARE * worldSize * worldSize) return undefined;
  const mw = Math.min(worldSize, w * (1 + 2 * VIEW_MARGIN_SHARE));
  const mh = Math.min(worldSize, h * (1 + 2 * VIEW_MARGIN_SHARE));
  return {
    x: wrap(rect.x0 - (mw - w) / 2, worldSize),
    y: wrap(rect.y0 - (mh - h) / 2, worldSize),
    w: mw,
    h: mh,
  };
}

/** Whether [start, start + length] lies within [from, from + span] on a circle of `size`. */
function within(start: number, length: number, from: number, span: number, size: number): boolean {
  if (span >= size) return true;
  return wrap(start - from, size) + length <= span;
}

function wrap(v: number, size: number): number {
  const r = v % size;
  const w = r < 0 ? r + size : r;
  // -1e-14 + size rounds to size, which the server refuses: that point is 0.
  return w >= size ? 0 : w;
}
