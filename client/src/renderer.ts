/**
 * The WebGL2 renderer: every visible particle in one instanced draw call.
 * It owns the GL context, the canvas's backing-store size (CSS size times
 * devicePixelRatio, so dots stay crisp on high-DPI screens), and the buffer
 * of culled particles, uploaded each frame.
 *
 * Why points as vertices and world copies as instances (not one quad
 * instance per particle): the result is the same single draw call, but
 * instancing over tens of thousands of tiny instances is pathologically
 * slow on software rasterizers (SwiftShader, which headless Chromium and
 * GPU-less machines use: 3,000 quad instances drew at 9 fps where 3,000
 * points drew at 50), while points are fast everywhere. The instances then
 * do the toroidal wrap on the GPU: the CPU uploads each particle once,
 * however many copies of the world are in view.
 */
import type { Camera } from './camera.js';
import { MAX_COPIES, PARTICLE_FRAGMENT, PARTICLE_VERTEX } from './shaders.js';

/** Background colour (also what tests treat as "no particle here"). */
export const BACKGROUND_RGB = [11, 14, 20] as const;

/** Dot radius in CSS px: grows with zoom, within bounds that stay readable. */
const MIN_RADIUS_PX = 1.4;
const MAX_RADIUS_PX = 7;
const RADIUS_WORLD = 1.2;
/** Speed (world units per second) drawn at full brightness: the flock's default top speed. */
const SPEED_FULL = 50;
/** Floats per particle: x, y, vx, vy. */
const PARTICLE_FLOATS = 4;

export class Renderer {
  readonly canvas: HTMLCanvasElement;
  readonly #gl: WebGL2RenderingContext;
  readonly #vao: WebGLVertexArrayObject;
  readonly #particles: WebGLBuffer;
  #particleCapacity = 0;
  readonly #maxPointSize: number;
  readonly #uniforms: Record<
    'center' | 'scale' | 'pointSize' | 'speedFull' | 'copies',
    WebGLUniformLocation | null
  >;
  /** The CSS size and DPR the backing store was made for. */
  #cssWidth = 0;
  #cssHeight = 0;
  #dpr = 1;

  /** A renderer for `canvas`, or null when the browser has no WebGL2. */
  static create(canvas: HTMLCanvasElement): Renderer | null {
    const gl = canvas.getContext('webgl2', {
      antialias: false,
      alpha: false,
      powerPreference: 'high-performance',
    });
    return gl ? new Renderer(canvas, gl) : null;
  }

  private constructor(canvas: HTMLCanvasElement, gl: WebGL2RenderingContext) {
    this.canvas = canvas;
    this.#gl = gl;
    const program = linkProgram(gl, PARTICLE_VERTEX, PARTICLE_FRAGMENT);
    gl.useProgram(program);
    this.#uniforms = {
      center: gl.getUniformLocation(program, 'uCenter'),
      scale: gl.getUniformLocation(program, 'uScale'),
      pointSize: gl.getUniformLocation(program, 'uPointSize'),
      speedFull: gl.getUniformLocation(program, 'uSpeedFull'),
      copies: gl.getUniformLocation(program, 'uCopies'),
    };
    gl.uniform1f(this.#uniforms.speedFull, SPEED_FULL);
    // WebGL only promises points of 1 px; real implementations go to 64 or more.
    this.#maxPointSize = (gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE) as Float32Array)[1] ?? 1;

    this.#vao = gl.createVertexArray()!;
    gl.bindVertexArray(this.#vao);
    this.#particles = gl.createBuffer()!;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.#particles);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, PARTICLE_FLOATS, gl.FLOAT, false, 0, 0);

    // Additive blending: dense parts of the flock glow instead of hiding each other.
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE);
    gl.clearColor(BACKGROUND_RGB[0] / 255, BACKGROUND_RGB[1] / 255, BACKGROUND_RGB[2] / 255, 1);
  }

  /** CSS size of the canvas as last measured by `resize`. */
  get cssWidth(): number {
    return this.#cssWidth;
  }

  get cssHeight(): number {
    return this.#cssHeight;
  }

  /**
   * Matches the backing store to the canvas's CSS size times the DPR (which
   * changes with browser zoom or a move to another screen). Cheap when
   * nothing changed, so it runs every frame. Returns whether the size changed.
   */
  resize(): boolean {
    const dpr = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    if (width === this.#cssWidth && height === this.#cssHeight && dpr === this.#dpr) return false;
    this.#cssWidth = width;
    this.#cssHeight = height;
    this.#dpr = dpr;
    this.canvas.width = Math.max(1, Math.round(width * dpr));
    this.canvas.height = Math.max(1, Math.round(height * dpr));
    this.#gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    return true;
  }

  /**
   * Clears and draws `count` particles from `particles` (x, y, vx, vy each)
   * once per world copy in `copies` (x, y offsets), as seen by `camera`.
   */
  draw(
    particles: Float32Array,
    count: number,
    copies: Float32Array,
    copyCount: number,
    camera: Camera,
  ): void {
    const gl = this.#gl;
    gl.clear(gl.COLOR_BUFFER_BIT);
    // The camera's zoom bound keeps copies within MAX_COPIES; never index past the array.
    const instances = Math.min(copyCount, MAX_COPIES);
    if (count === 0 || instances === 0) return;
    const w = Math.max(1, this.#cssWidth);
    const h = Math.max(1, this.#cssHeight);
    const radiusPx = Math.min(MAX_RADIUS_PX, Math.max(MIN_RADIUS_PX, RADIUS_WORLD * camera.zoom));
    gl.uniform2f(this.#uniforms.center, camera.centerX, camera.centerY);
    gl.uniform2f(this.#uniforms.scale, (2 * camera.zoom) / w, (-2 * camera.zoom) / h);
    gl.uniform1f(this.#uniforms.pointSize, Math.min(this.#maxPointSize, 2 * radiusPx * this.#dpr));

    gl.uniform2fv(this.#uniforms.copies, copies, 0, 2 * instances);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.#particles);
    const floats = count * PARTICLE_FLOATS;
    if (floats > this.#particleCapacity) {
      // Grow with headroom so spawns do not reallocate every frame.
      this.#particleCapacity = Math.ceil(floats * 1.5);
      gl.bufferData(gl.ARRAY_BUFFER, this.#particleCapacity * 4, gl.DYNAMIC_DRAW);
    }
    gl.bufferSubData(gl.ARRAY_BUFFER, 0, particles, 0, floats);
    gl.bindVertexArray(this.#vao);
    gl.drawArraysInstanced(gl.POINTS, 0, count, instances);
  }
}

function linkProgram(gl: WebGL2RenderingContext, vertex: string, fragment: string): WebGLProgram {
  const program = gl.createProgram()!;
  gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, vertex));
  gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragment));
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    throw new Error(`particle program failed to link: ${gl.getProgramInfoLog(program)}`);
  }
  return program;
}

function compile(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type)!;
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    throw new Error(`particle shader failed to compile: ${gl.getShaderInfoLog(shader)}`);
  }
  return shader;
}
