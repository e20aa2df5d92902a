/**
 * Runs one fuzz case against a live server over real sockets and checks the
 * property the issue asks of every connection:
 * - it ends still open (answering a ping) or closed with a documented code
 *   (protocol/close-codes.ts, ws's own 1002/1007/1009, or the code the
 *   client itself sent in a close frame, which the server echoes);
 * - every close reason fits a close frame: at most 123 UTF-8 bytes;
 * - every reply is binary, decodes as a server message, frames decode
 *   against what this client holds, and every `{t:'error'}` carries a code
 *   from protocol/error-codes.ts;
 * then, per case, that the server is alive (no fault) and /healthz says 200.
 * Used by test/fuzz/message-path.test.ts (in-process server) and by
 * `npm run fuzz` (server in a child process). No vitest in here.
 */
import type { Socket } from 'node:net';
import WebSocket, { type RawData } from 'ws';
import { CloseCode } from '../../protocol/close-codes.js';
import { decodeMessage, encodeMessage } from '../../protocol/envelope.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { FrameDecoder } from '../../protocol/frame-codec.js';
import { ViewDecoder } from '../../protocol/view-decoder.js';
import { isServerMessage } from '../../protocol/messages.js';
import { type FuzzCase, floodWire, messagesIn, type SessionPlan } from './fuzz-case.js';
import { helloPayload } from './arbitraries.js';
import { quote } from '../support/msgpack-bytes.js';
import { isValidPeerCloseCode, messageFrame } from '../support/ws-frames.js';

/** Close codes ws sends by itself when it fails a connection (protocol error, bad UTF-8, too big). */
export const WS_OWN_CLOSE_CODES = [1002, 1007, 1009] as const;
export const DOCUMENTED_CLOSE_CODES: ReadonlySet<number> = new Set([
  ...Object.values(CloseCode),
  ...WS_OWN_CLOSE_CODES,
]);
const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));
/** A close frame's payload is at most 125 bytes, two of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;
/** The ping id the runner's probe uses (a uint32, in case ids get a range). */
export const PROBE_PING_ID = 0xffff_fff0;

export interface FuzzTarget {
  /** Base URL, `http://127.0.0.1:<port>`. */
  http: string;
  /** Why the server can no longer be trusted (process exited, uncaught exception), if so. */
  fault(): string | undefined;
}

export interface RunnerOptions {
  /** Lobbies are `<prefix>-<n>`. */
  lobbyPrefix: string;
  openTimeoutMs?: number;
  /** How long a connection has to answer the closing probe (a ping) or close. */
  answerTimeoutMs?: number;
  /**
   * After a failure, how long to let a fault surface before judging: a child
   * process's exit is reported a moment after its sockets reset.
   */
  faultGraceMs?: number;
}

export interface SessionReport {
  index: number;
  lobby: string;
  violations: string[];
  closeCode: number | undefined;
  closeReason: Buffer;
  /** Still open after the steps (and answering); the runner then closed it. */
  openAtEnd: boolean;
  replies: number;
  errorCodes: string[];
}

export interface CaseReport {
  violations: string[];
  /** Set when the server died (or, in-process, threw where it would have died). */
  fault: string | undefined;
  messages: number;
  sessions: SessionReport[];
}

const PROBE = messageFrame(encodeMessage({ t: 'ping', id: PROBE_PING_ID }));
const HELLO = messageFrame(helloPayload().bytes);
const MAX_VIOLATIONS_PER_SESSION = 4;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runCase(
  target: FuzzTarget,
  fuzzCase: FuzzCase,
  options: RunnerOptions,
): Promise<CaseReport> {
  const sessions = await Promise.all(
    fuzzCase.sessions.map((plan, i) => runSession(target, plan, i, options)),
  );
  const violations = sessions.flatMap((s) => s.violations);
  if (options.faultGraceMs && (violations.length > 0 || target.fault()))
    await sleep(options.faultGraceMs);
  const fault = target.fault();
  if (fault) violations.unshift(`server fault: ${fault}`);
  else {
    try {
      const health = await fetch(`${target.http}/healthz`, { signal: AbortSignal.timeout(3000) });
      if (health.status !== 200) violations.push(`/healthz answered ${health.status}`);
      await health.body?.cancel();
    } catch (error) {
      violations.push(`/healthz failed: ${(error as Error).message}`);
    }
  }
  return { violations, fault, messages: messagesIn(fuzzCase), sessions };
}

/**
 * Keeps a run's shrinking on the kind of failure it found first. Once a case
 * has failed, a smaller case that fails another way (a wrong close code where
 * the first killed the server) counts as passing, so fast-check cannot wander
 * from a crash to a lesser bug while it shrinks. A fresh one per fc run.
 */
export class ShrinkFocus {
  #first: 'fault' | 'violation' | undefined;

  /** Whether `report`'s failure is one to keep (and remembers the first one). */
  keep(report: CaseReport): boolean {
    const kind = report.fault ? 'fault' : 'violation';
    this.#first ??= kind;
    return kind === this.#first;
  }
}

/** Runs a case and throws (with what each connection saw) if the property broke; returns messages sent. */
export async function checkCase(
  target: FuzzTarget,
  fuzzCase: FuzzCase,
  options: RunnerOptions,
  focus?: ShrinkFocus,
): Promise<number> {
  const report = await runCase(target, fuzzCase, options);
  if (report.violations.length > 0 && (focus?.keep(report) ?? true)) {
    const error = new Error(
      [...report.violations, 'connections:', ...report.sessions.map(describeSession)].join('\n  '),
    );
    // The report is the message; where in the runner it was thrown says nothing.
    error.stack = `Error: ${error.message}`;
    throw error;
  }
  return report.messages;
}

export function describeSession(s: SessionReport): string {
  const end = s.openAtEnd
    ? 'open at the end'
    : s.closeCode === undefined
      ? 'no close from the server'
      : `closed ${s.closeCode} ${quote(s.closeReason.toString())} (${s.closeReason.length} B)`;
  const errors = s.errorCodes.length > 0 ? `, errors [${s.errorCodes.join(', ')}]` : '';
  return `#${s.index} on ${s.lobby}: ${end}, ${s.replies} replies${errors}`;
}

async function runSession(
  target: FuzzTarget,
  plan: SessionPlan,
  index: number,
  options: RunnerOptions,
): Promise<SessionReport> {
  const lobby = `${options.lobbyPrefix}-${plan.lobby}`;
  const report: SessionReport = {
    index,
    lobby,
    violations: [],
    closeCode: undefined,
    closeReason: Buffer.alloc(0),
    openAtEnd: false,
    replies: 0,
    errorCodes: [],
  };
  const violate = (text: string) => {
    if (report.violations.length < MAX_VIOLATIONS_PER_SESSION)
      report.violations.push(`#${index}: ${text}`);
  };
  let closed = false;
  let answered = false;
  let decoder: FrameDecoder | undefined;
  /** View frames (after a `view` message) decode here, and must decode too. */
  let viewDecoder: ViewDecoder | undefined;
  let wake = () => {};
  /** Waits until `done()` holds (re-checked on every close or probe pong) or `ms` pass; says which. */
  const until = async (done: () => boolean, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return true;
  };

  const ws = new WebSocket(`${target.http.replace(/^http/, 'ws')}/lobby/${lobby}/ws`, {
    perMessageDeflate: false,
  });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    report.replies++;
    if (!isBinary) return violate('the server sent a text message');
    const decoded = decodeMessage(toBytes(data));
    if (!decoded.ok) return violate(`undecodable reply: ${decoded.reason}`);
    const message = decoded.value;
    if (!isServerMessage(message))
      return violate(`reply is not a server message: ${quote(JSON.stringify(message) ?? '')}`);
    try {
      switch (message.t) {
        case 'welcome':
          decoder = new FrameDecoder(message.quantBits);
          viewDecoder = new ViewDecoder(message.quantBits, message.maxParticles);
          return;
        case 'frame':
          if (!decoder) return violate('a frame before the welcome');
          if (message.kind === 'view')
            viewDecoder!.apply(message.tick, message.base, message.n, message.data, message.prior);
          else if (message.kind === 'key')
            decoder.applyKeyframe(message.tick, message.n, message.data);
          else {
            const { tick, base = -1, n, data, prior } = message;
            decoder.applyDelta(tick, base, n, data, prior);
          }
          return;
        case 'error':
          report.errorCodes.push(String(message.code));
          if (!ERROR_CODES.has(message.code))
            violate(`error reply with unknown code ${quote(String(message.code))}`);
          if (typeof message.message !== 'string') violate('error reply without a message');
          return;
        case 'pong':
          if (message.id === PROBE_PING_ID) {
            answered = true;
            wake();
          }
          return;
      }
    } catch (error) {
      violate(`bad ${message.t}: ${(error as Error).message}`);
    }
  });
  ws.on('close', (code: number, reason: Buffer) => {
    closed = true;
    report.closeCode = code;
    report.closeReason = reason;
    wake();
  });
  ws.on('error', (error: Error & { code?: string }) => {
    // A reset shows up as 1006 below; anything else is the server speaking bad WebSocket.
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE')
      violate(`client-side error: ${error.message}`);
  });

  const opened = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), options.openTimeoutMs ?? 5000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(true);
    });
    ws.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!opened) {
    violate(`the socket did not open (close ${report.closeCode ?? 'none'})`);
    ws.terminate();
    return report;
  }

  // Frames go straight to the TCP socket, so they are sent even after the
  // server's close frame has arrived (ws would drop them) and can break rules.
  const socket = (ws as unknown as { _socket: Socket })._socket;
  const write = (bytes: Uint8Array) => {
    if (!socket.destroyed && socket.writable) socket.write(bytes);
  };
  const clientCloses = new Set<number>();
  if (plan.helloFirst) write(HELLO);
  for (const step of plan.steps) {
    if (target.fault()) break;
    if (step.kind === 'send') {
      write(step.wire);
      if (step.clientClose !== undefined) clientCloses.add(step.clientClose);
    } else if (step.kind === 'flood') write(floodWire(step.count, step.message));
    else await sleep(step.ms);
  }

  // The probe: a ping answered means every message before it was handled.
  const answerBy = Date.now() + (options.answerTimeoutMs ?? 3000);
  while (!closed && !answered && !target.fault()) {
    if (Date.now() > answerBy) {
      violate(`neither answered a ping nor closed within ${options.answerTimeoutMs ?? 3000} ms`);
      break;
    }
    write(PROBE);
    await until(() => closed || answered, 100);
  }

  if (!closed && target.fault()) {
    // A dead (or wedged) server will not answer a close frame.
    ws.terminate();
    return report;
  }
  if (!closed) {
    report.openAtEnd = answered;
    ws.close(1000);
    if (!(await until(() => closed, 2000))) {
      violate('the server did not finish the close handshake within 2 s');
      ws.terminate();
    }
  }
  // When the runner closed a healthy connection itself, the echo says nothing.
  if (!report.openAtEnd) checkClose(report, clientCloses, violate);
  return report;
}

function checkClose(
  report: SessionReport,
  clientCloses: ReadonlySet<number>,
  violate: (text: string) => void,
): void {
  const code = report.closeCode;
  if (code === undefined) return;
  // A close frame from the client is echoed; one without a code comes back as 1005.
  const echoed = clientCloses.has(code) && (isValidPeerCloseCode(code) || code === 1005);
  if (!DOCUMENTED_CLOSE_CODES.has(code) && !echoed) {
    violate(
      `closed with ${code} ${quote(report.closeReason.toString())}: not a documented close code`,
    );
  }
  if (report.closeReason.length > MAX_CLOSE_REASON_BYTES) {
    violate(`close reason of ${report.closeReason.length} bytes (max ${MAX_CLOSE_REASON_BYTES})`);
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
