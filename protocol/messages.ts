/**
 * Message shapes in both directions and the validation of what a client
 * sends. Every message is one msgpack map with a string field `t`; see
 * docs/PROTOCOL.md for units and ranges. Validation never throws: it returns
 * either the typed message or an error code with a human-readable reason.
 */
import { quoteClientText } from './client-text.js';
import { ErrorCode, type ErrorCodeValue } from './error-codes.js';
import type { LobbyPhase } from './lobby-phase.js';

export type { LobbyPhase } from './lobby-phase.js';

export const INPUT_MODES = ['attract', 'repel', 'none'] as const;
export type InputMode = (typeof INPUT_MODES)[number];

/** Largest seq a client may use: seqs are uint32. */
export const MAX_SEQ = 0xffff_ffff;

// ── client → server ──────────────────────────────────────────────────────
export interface HelloMessage {
  t: 'hello';
  v: number;
}
export interface InputMessage {
  t: 'input';
  seq: number;
  x: number;
  y: number;
  mode: InputMode;
}
export interface SpawnMessage {
  t: 'spawn';
  seq: number;
  x: number;
  y: number;
  count: number;
}
export interface PingMessage {
  t: 'ping';
  id: number;
}
/**
 * The frame rates a client may ask for, per second: each divides 60, so at a
 * 60 Hz tick the clients of one rate are sent the same ticks and share one
 * encode per frame.
 */
export const SEND_RATES = [60, 30, 20, 15, 10] as const;
export type SendRate = (typeof SEND_RATES)[number];
/**
 * Asks for at most `hz` frames per second from now on (the server may send
 * fewer: its own cap, or a connection that cannot keep up). Any time after
 * hello; the latest one counts.
 */
export interface RateMessage {
  t: 'rate';
  hz: SendRate;
}
/**
 * A player's report of its own experience over the last report window
 * (clients send one every STATS_REPORT_INTERVAL_MS). Ranges: STATS_FIELDS.
 */
export interface StatsMessage {
  t: 'stats';
  /** Frames decoded (bot) or drawn (browser) per second over the window. */
  fps: number;
  /** Frames received in the window. */
  received: number;
  /**
   * Ticks in the window that no received frame carried (gaps in `tick`); at
   * a send rate below the tick rate these include the ones thinned by policy.
   */
  skipped: number;
  /** Mean decode time per frame in the window, ms. */
  decodeMs: number;
  /** The latest ping round trip, ms. */
  rttMs?: number;
  /** Interpolation buffer: how far the drawn state lags the newest frame, ms (browser). */
  bufferMs?: number;
  /**
   * Mean end-to-end frame latency in the window, ms: for bots decode time
   * minus `frame.sent`; for the browser the age of the frame being drawn
   * (clock-corrected).
   */
  latencyMs?: number;
}
/** What a client reports: a stats message without its `t`. */
export type StatsReport = Omit<StatsMessage, 't'>;

/** How often a client sends its stats report, ms (the server's rate limit leaves room for more). */
export const STATS_REPORT_INTERVAL_MS = 2000;

interface StatsField {
  /** Largest accepted value (the smallest is 0). */
  max: number;
  integer: boolean;
  /** May be absent (or nil). */
  optional: boolean;
}

/** Each stats field's range, in the order they are checked. */
export const STATS_FIELDS = {
  fps: { max: 1000, integer: false, optional: false },
  received: { max: 0xffff_ffff, integer: true, optional: false },
  skipped: { max: 0xffff_ffff, integer: true, optional: false },
  decodeMs: { max: 10_000, integer: false, optional: false },
  rttMs: { max: 60_000, integer: false, optional: true },
  bufferMs: { max: 10_000, integer: false, optional: true },
  latencyMs: { max: 60_000, integer: false, optional: true },
} as const satisfies Record<keyof StatsReport, StatsField>;

/**
 * Subscribes to the tiles covering a rectangle of the torus (world units:
 * x, y in [0, worldSize), w, h in (0, worldSize]): frames of kind `view`
 * from then on. All four absent: the whole world again (a keyframe follows).
 */
export interface ViewMessage {
  t: 'view';
  x?: number;
  y?: number;
  w?: number;
  h?: number;
}
const VIEW_FIELDS = ['x', 'y', 'w', 'h'] as const;

export type ClientMessage =
  | ViewMessage
  | HelloMessage
  | InputMessage
  | SpawnMessage
  | PingMessage
  | RateMessage
  | StatsMessage;
/** Messages that travel to the lobby through its inbox. */
export type LobbyInput = InputMessage | SpawnMessage;

// ── server → client ──────────────────────────────────────────────────────
export interface WelcomeMessage {
  t: 'welcome';
  v: number;
  clientId: number;
  lobbyId: string;
  tickRate: number;
  worldSize: number;
  /** Bits per quantized coordinate (see docs/PROTOCOL.md, "Particle data"). */
  quantBits: number;
  maxParticles: number;
  maxSpawn: number;
  instanceId: string;
  serverVersion: string;
}
/** `view`: only the subscribed tiles (docs/PROTOCOL.md, "View frames"). */
export type FrameKind = 'key' | 'delta' | 'view';
export interface FrameMessage {
  t: 'frame';
  tick: number;
  kind: FrameKind;
  /** Tick of the frame this delta (or view frame's delta chunks) applies to; absent on keyframes. */
  base?: number;
  /**
   * Tick of the frame the client held before `base`: present on a
   * second-order delta (residuals from base + the motion prior → base),
   * absent on first-order deltas and keyframes (docs/PROTOCOL.md).
   */
  prior?: number;
  /** Particle count at `tick`. */
  n: number;
  /** Last input seq from this client applied at or before `tick`; -1 if none. */
  ack: number;
  /**
   * When the server handed this frame to the socket: ms since the Unix epoch
   * on the server's clock, sub-millisecond. A client on the same clock gets
   * end-to-end latency as its decode time minus this; one elsewhere corrects
   * by the clock offset its pings measure (pong.serverTime).
   */
  sent: number;
  data: Uint8Array;
}
export interface LobbyStatus {
  id: string;
  phase: LobbyPhase;
  tick: number;
  clients: number;
  particles: number;
  maxParticles: number;
}
/**
 * The lobby's status as it changes. A client's first status after its
 * welcome carries every field; later ones carry `lobbyId`, `tick` and only
 * the fields that changed since the previous status (a client merges them).
 * At most one per lobby per tick, however many changes the tick saw.
 */
export interface StatusMessage extends Partial<Omit<LobbyStatus, 'id' | 'tick'>> {
  t: 'status';
  lobbyId: string;
  tick: number;
}
/** A client's whole view of its lobby's status: every field, merged from the status messages. */
export type StatusView = Required<StatusMessage>;
/**
 * The view with a status message's fields laid over it (a status for
 * another lobby replaces it). The server's first status to a client carries
 * every field, so the view is whole from then on.
 */
export function mergeStatus(view: StatusView | undefined, message: StatusMessage): StatusView {
  const merged = view && view.lobbyId === message.lobbyId ? { ...view, ...message } : message;
  return merged as StatusView;
}
export interface ErrorMessage {
  t: 'error';
  code: ErrorCodeValue;
  message: string;
  seq?: number;
}
export interface PongMessage {
  t: 'pong';
  id: number;
  serverTime: number;
}
export type ServerMessage =
  | WelcomeMessage
  | FrameMessage
  | StatusMessage
  | ErrorMessage
  | PongMessage;

// ── validation ───────────────────────────────────────────────────────────
export interface ValidationLimits {
  worldSize: number;
  maxSpawn: number;
}
export type Parsed<T> =
  | { ok: true; message: T }
  | { ok: false; code: ErrorCodeValue; reason: string; seq?: number };

const fail = (code: ErrorCodeValue, reason: string, seq?: number): Parsed<never> =>
  seq === undefined ? { ok: false, code, reason } : { ok: false, code, reason, seq };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

const isSeq = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_SEQ;

/**
 * Checks a decoded value against the client message shapes. Type errors give
 * `invalid_message`, values outside their range `out_of_range`; the seq is
 * echoed when it could be read so the client can tell which input failed.
 */
export function parseClientMessage(
  value: unknown,
  limits: ValidationLimits,
): Parsed<ClientMessage> {
  if (!isRecord(value)) return fail(ErrorCode.invalidMessage, 'message must be a msgpack map');
  const t = value.t;
  if (typeof t !== 'string') return fail(ErrorCode.invalidMessage, "field 't' must be a string");
  switch (t) {
    case 'hello':
      if (typeof value.v !== 'number' || !Number.isInteger(value.v)) {
        return fail(ErrorCode.invalidMessage, "hello needs an integer 'v' (protocol version)");
      }
      return { ok: true, message: { t, v: value.v } };
    case 'ping':
      if (typeof value.id !== 'number' || !Number.isFinite(value.id)) {
        return fail(ErrorCode.invalidMessage, "ping needs a numeric 'id'");
      }
      return { ok: true, message: { t, id: value.id } };
    case 'input':
    case 'spawn':
      return parseLobbyInput(t, value, limits);
    case 'stats':
      return parseStats(value);
    case 'rate':
      if (typeof value.hz !== 'number') {
        return fail(ErrorCode.invalidMessage, "rate needs a numeric 'hz'");
      }
      if (!(SEND_RATES as readonly number[]).includes(value.hz)) {
        return fail(ErrorCode.outOfRange, `hz must be one of ${SEND_RATES.join(', ')}`);
      }
      return { ok: true, message: { t, hz: value.hz as SendRate } };
    case 'view':
      return parseView(value, limits.worldSize);
    default:
      return fail(ErrorCode.unknownType, `unknown message type '${quoteClientText(t)}'`);
  }
}

function parseLobbyInput(
  t: 'input' | 'spawn',
  value: Record<string, unknown>,
  limits: ValidationLimits,
): Parsed<LobbyInput> {
  const { seq, x, y } = value;
  if (typeof seq !== 'number' || !Number.isInteger(seq)) {
    return fail(ErrorCode.invalidMessage, `${t} needs an integer 'seq'`);
  }
  if (!isSeq(seq)) return fail(ErrorCode.outOfRange, `seq must be in [0, ${MAX_SEQ}]`);
  if (typeof x !== 'number' || typeof y !== 'number') {
    return fail(ErrorCode.invalidMessage, `${t} needs numeric 'x' and 'y'`, seq);
  }
  if (!inWorld(x, limits.worldSize) || !inWorld(y, limits.worldSize)) {
    return fail(ErrorCode.outOfRange, `x and y must be in [0, ${limits.worldSize})`, seq);
  }
  if (t === 'input') {
    const mode = value.mode;
    if (typeof mode !== 'string' || !(INPUT_MODES as readonly string[]).includes(mode)) {
      return fail(ErrorCode.invalidMessage, `mode must be one of ${INPUT_MODES.join(', ')}`, seq);
    }
    return { ok: true, message: { t, seq, x, y, mode: mode as InputMode } };
  }
  const count = value.count;
  if (typeof count !== 'number' || !Number.isInteger(count)) {
    return fail(ErrorCode.invalidMessage, "spawn needs an integer 'count'", seq);
  }
  if (count < 1 || count > limits.maxSpawn) {
    return fail(ErrorCode.outOfRange, `count must be in [1, ${limits.maxSpawn}]`, seq);
  }
  return { ok: true, message: { t, seq, x, y, count } };
}

/**
 * A stats report: each field a number in its range (an integer where
 * STATS_FIELDS says so); optional ones may be absent or nil; fields we do
 * not know are ignored, so clients can report more before servers read it.
 */
function parseStats(value: Record<string, unknown>): Parsed<StatsMessage> {
  const report: Partial<Record<keyof StatsReport, number>> = {};
  for (const name of Object.keys(STATS_FIELDS) as (keyof StatsReport)[]) {
    const field: StatsField = STATS_FIELDS[name];
    const v = value[name];
    if (v === undefined || v === null) {
      if (field.optional) continue;
      return fail(ErrorCode.invalidMessage, `stats needs a numeric '${name}'`);
    }
    if (typeof v !== 'number') {
      return fail(ErrorCode.invalidMessage, `stats field '${name}' must be a number`);
    }
    // NaN fails both comparisons, infinities the second.
    if (!(v >= 0 && v <= field.max)) {
      return fail(ErrorCode.outOfRange, `stats field '${name}' must be in [0, ${field.max}]`);
    }
    if (field.integer && !Number.isInteger(v)) {
      return fail(ErrorCode.invalidMessage, `stats field '${name}' must be an integer`);
    }
    report[name] = v;
  }
  return { ok: true, message: { t: 'stats', ...(report as StatsReport) } };
}

/**
 * A view: all four of x, y, w, h (numbers, x and y in the world, w and h in
 * (0, worldSize]) or none of them (nil counts as absent): the whole world.
 */
function parseView(value: Record<string, unknown>, size: number): Parsed<ViewMessage> {
  const given = VIEW_FIELDS.filter((f) => value[f] !== undefined && value[f] !== null);
  if (given.length === 0) return { ok: true, message: { t: 'view' } };
  if (given.length < VIEW_FIELDS.length) {
    return fail(ErrorCode.invalidMessage, "view needs all of 'x', 'y', 'w', 'h' or none of them");
  }
  const { x, y, w, h } = value;
  if (
    typeof x !== 'number' ||
    typeof y !== 'number' ||
    typeof w !== 'number' ||
    typeof h !== 'number'
  ) {
    return fail(ErrorCode.invalidMessage, "view's 'x', 'y', 'w', 'h' must be numbers");
  }
  if (!inWorld(x, size) || !inWorld(y, size)) {
    return fail(ErrorCode.outOfRange, `view x and y must be in [0, ${size})`);
  }
  // NaN fails both comparisons.
  if (!(w > 0 && w <= size && h > 0 && h <= size)) {
    return fail(ErrorCode.outOfRange, `view w and h must be in (0, ${size}]`);
  }
  return { ok: true, message: { t: 'view', x, y, w, h } };
}

const inWorld = (v: number, size: number): boolean => Number.isFinite(v) && v >= 0 && v < size;

/**
 * Light shape check for what a client receives: enough to dispatch safely.
 * The server is trusted; this guards against talking to the wrong service.
 */
export function isServerMessage(value: unknown): value is ServerMessage {
  if (!isRecord(value) || typeof value.t !== 'string') return false;
  switch (value.t) {
    case 'frame':
      return (
        typeof value.tick === 'number' &&
        typeof value.n === 'number' &&
        (value.prior === undefined || typeof value.prior === 'number') &&
        value.data instanceof Uint8Array
      );
    case 'welcome':
    case 'status':
    case 'error':
    case 'pong':
      return true;
    default:
      return false;
  }
}
