/**
 * Pointer, wheel and keyboard on the canvas, turned into player intents
 * (a force at a world point, a burst) and view changes (pan, zoom).
 *
 *   hold left button / one finger ........ attract at the pointer
 *   shift + left, or right button ......... repel
 *   space, or double-click ................ burst of particles at the pointer
 *   middle button, or alt/ctrl + drag ..... pan;  two fingers: pan and pinch-zoom
 *   wheel (or trackpad pinch) ............. zoom at the pointer
 *   arrow keys pan, F goes back to the default view (the world once)
 *
 * Rate limiting and seqs are not this file's job (input-sender.ts).
 */
import type { InputMode } from '../../protocol/index.js';
import type { Camera } from './camera.js';

export interface ControlActions {
  /** The force the player wants now, at a world point in [0, worldSize). */
  force(mode: InputMode, x: number, y: number): void;
  burst(x: number, y: number): void;
}

type Gesture =
  | { kind: 'none' }
  | { kind: 'force'; button: number }
  | { kind: 'pan' }
  | { kind: 'pinch'; distance: number; midX: number; midY: number };

/** Wheel zoom per pixel of scroll (and per line for line-mode wheels). */
const ZOOM_PER_PIXEL = 0.0015;
const ZOOM_PER_LINE = 0.05;
/** Arrow keys move the view by this share of its size. */
const KEY_PAN_SHARE = 0.1;

export class Controls {
  readonly #canvas: HTMLCanvasElement;
  readonly #camera: Camera;
  readonly #actions: ControlActions;
  #gesture: Gesture = { kind: 'none' };
  readonly #pointers = new Map<number, { x: number; y: number }>();
  /** Last pointer position over the canvas, CSS px (undefined: never seen). */
  #last: { x: number; y: number } | undefined;
  #shift = false;

  constructor(canvas: HTMLCanvasElement, camera: Camera, actions: ControlActions) {
    this.#canvas = canvas;
    this.#camera = camera;
    this.#actions = actions;
    canvas.addEventListener('pointerdown', (e) => this.#down(e));
    canvas.addEventListener('pointermove', (e) => this.#move(e));
    canvas.addEventListener('pointerup', (e) => this.#up(e));
    canvas.addEventListener('pointercancel', (e) => this.#up(e));
    canvas.addEventListener('wheel', (e) => this.#wheel(e), { passive: false });
    canvas.addEventListener('dblclick', (e) => this.#burstAt(this.#local(e)));
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
    window.addEventListener('keydown', (e) => this.#key(e, true));
    window.addEventListener('keyup', (e) => this.#key(e, false));
    // A release outside the window never reaches us: stop pushing when focus goes.
    window.addEventListener('blur', () => this.#release());
  }

  #local(e: MouseEvent): { x: number; y: number } {
    const rect = this.#canvas.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  }

  #down(e: PointerEvent): void {
    const p = this.#local(e);
    this.#last = p;
    this.#pointers.set(e.pointerId, p);
    this.#canvas.setPointerCapture(e.pointerId);
    this.#shift = e.shiftKey;
    if (this.#pointers.size === 2) {
      // A second finger turns the gesture into pan + pinch; stop pushing the flock.
      if (this.#gesture.kind === 'force') this.#actions.force('none', 0, 0);
      this.#gesture = { kind: 'pinch', ...this.#pinchGeometry() };
      return;
    }
    if (this.#pointers.size > 2) return;
    if (e.button === 1 || (e.button === 0 && (e.altKey || e.ctrlKey || e.metaKey))) {
      e.preventDefault();
      this.#gesture = { kind: 'pan' };
    } else if (e.button === 0 || e.button === 2) {
      this.#gesture = { kind: 'force', button: e.button };
      this.#sendForce();
    }
  }

  #move(e: PointerEvent): void {
    const p = this.#local(e);
    const previous = this.#pointers.get(e.pointerId);
    if (previous) this.#pointers.set(e.pointerId, p);
    this.#last = p;
    const gesture = this.#gesture;
    if (gesture.kind === 'pan' && previous) {
      this.#camera.panByScreen(p.x - previous.x, p.y - previous.y);
    } else if (gesture.kind === 'force') {
      this.#sendForce();
    } else if (gesture.kind === 'pinch' && this.#pointers.size >= 2) {
      const next = this.#pinchGeometry();
      this.#camera.panByScreen(next.midX - gesture.midX, next.midY - gesture.midY);
      if (gesture.distance > 0)
        this.#camera.zoomAt(next.midX, next.midY, next.distance / gesture.distance);
      this.#gesture = { kind: 'pinch', ...next };
    }
  }

  #up(e: PointerEvent): void {
    this.#pointers.delete(e.pointerId);
    if (this.#gesture.kind === 'force') this.#actions.force('none', 0, 0);
    // Lifting one finger of a pinch does not start an attract with the other.
    if (this.#gesture.kind !== 'pinch' || this.#pointers.size === 0)
      this.#gesture = { kind: 'none' };
  }

  #release(): void {
    if (this.#gesture.kind === 'force') this.#actions.force('none', 0, 0);
    this.#gesture = { kind: 'none' };
    this.#pointers.clear();
  }

  #wheel(e: WheelEvent): void {
    e.preventDefault();
    const p = this.#local(e);
    const perUnit = e.deltaMode === 1 ? ZOOM_PER_LINE : ZOOM_PER_PIXEL;
    this.#camera.zoomAt(p.x, p.y, Math.exp(-e.deltaY * perUnit));
    // The world point under a held pointer moved: follow it.
    if (this.#gesture.kind === 'force') this.#sendForce();
  }

  #key(e: KeyboardEvent, down: boolean): void {
    if (e.key === 'Shift') {
      this.#shift = down;
      if (this.#gesture.kind === 'force') this.#sendForce();
      return;
    }
    if (!down || e.target instanceof HTMLInputElement || e.target instanceof HTMLButtonElement)
      return;
    const camera = this.#camera;
    const stepX = (camera.viewWidth * KEY_PAN_SHARE) | 0;
    const stepY = (camera.viewHeight * KEY_PAN_SHARE) | 0;
    switch (e.key) {
      case ' ':
        e.preventDefault();
        this.#burstAt(this.#last ?? { x: camera.viewWidth / 2, y: camera.viewHeight / 2 });
        return;
      case 'f':
      case 'F':
        camera.fit();
        return;
      case 'ArrowLeft':
        return camera.panByScreen(stepX, 0);
      case 'ArrowRight':
        return camera.panByScreen(-stepX, 0);
      case 'ArrowUp':
        return camera.panByScreen(0, stepY);
      case 'ArrowDown':
        return camera.panByScreen(0, -stepY);
    }
  }

  #sendForce(): void {
    const gesture = this.#gesture;
    const p = this.#last;
    if (gesture.kind !== 'force' || !p) return;
    const mode: InputMode = gesture.button === 2 || this.#shift ? 'repel' : 'attract';
    const w = this.#camera.screenToWrappedWorld(p.x, p.y);
    this.#actions.force(mode, w.x, w.y);
  }

  #burstAt(p: { x: number; y: number }): void {
    const w = this.#camera.screenToWrappedWorld(p.x, p.y);
    this.#actions.burst(w.x, w.y);
  }

  #pinchGeometry(): { distance: number; midX: number; midY: number } {
    const [a, b] = [...this.#pointers.values()];
    return {
      distance: Math.hypot(a.x - b.x, a.y - b.y),
      midX: (a.x + b.x) / 2,
      midY: (a.y + b.y) / 2,
    };
  }
}
