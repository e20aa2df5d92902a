/**
 * A read-only window onto the running client for tests and the benchmark:
 * `window.__swarmhost` returns a fresh frozen snapshot on every read, so
 * nothing outside can change the client through it.
 */
import type { StatsReport } from '../../protocol/index.js';

export interface TimingSnapshot {
  count: number;
  totalMs: number;
  meanMs: number;
  p95Ms: number;
}

export interface DebugSnapshot {
  /** connecting | live | reconnecting | waiting | refused | unsupported */
  state: string;
  /** The server's reason when reconnecting, waiting or refused. */
  reason: string;
  lobbyId: string;
  instanceId: string;
  clientId: number;
  /** Newest server tick received; -1 before any. */
  tick: number;
  /** The (fractional) tick being drawn. */
  renderTick: number;
  /** Particles in the newest frame (of a view frame, those it holds). */
  particles: number;
  /** The world's particle count at the newest frame. */
  worldParticles: number;
  /** Frames received of kind `view` (viewport subscription), over every socket. */
  viewFrames: number;
  /** The view asked for on this socket; null: the whole world. */
  view: { x: number; y: number; w: number; h: number } | null;
  /** The send rate this page asks for (frames per second): 10 while the tab is hidden. */
  sendRate: number;
  /** Particles uploaded in the last frame (after culling). */
  visible: number;
  /** Copies of the world drawn (more than 1 when the view crosses the seam). */
  copies: number;
  status: { phase: string; clients: number; particles: number; maxParticles: number } | null;
  /** Newest input seq sent on this connection, and the newest acknowledged (-1: none). */
  seqSent: number;
  ack: number;
  inputsSent: number;
  framesReceived: number;
  framesSkipped: number;
  /** Sockets welcomed so far (2 after one reconnect). */
  sessions: number;
  bytesReceived: number;
  fps: number;
  rttMs: number;
  /** The player's experience as the page reports it (stats messages). */
  experience: {
    /** Stats reports sent, over every socket. */
    reportsSent: number;
    /** The last one sent; null before the first. */
    last: StatsReport | null;
    /** Age of the state drawn last, server clock-corrected, ms; NaN when unknown. */
    ageMs: number;
    /** Server clock minus the page's (performance.timeOrigin + now()), ms; NaN before a pong. */
    clockOffsetMs: number;
  };
  camera: {
    centerX: number;
    centerY: number;
    zoom: number;
    viewWidth: number;
    viewHeight: number;
    worldSize: number;
  };
  perf: {
    decode: TimingSnapshot;
    interpolate: TimingSnapshot;
    draw: TimingSnapshot;
    renderFrames: number;
  };
}

declare global {
  interface Window {
    __swarmhost?: DebugSnapshot;
  }
}

export function installDebug(snapshot: () => DebugSnapshot): void {
  Object.defineProperty(window, '__swarmhost', {
    get: () => Object.freeze(snapshot()),
    configurable: false,
    enumerable: false,
  });
}
