/**
 * `npm run bench:fanout` (issue #14, zero-copy fan-out): the ways of sending
 * one lobby's frame to N clients, side by side in one run, over real `ws`
 * sockets on 127.0.0.1. Every variant sends the same frames (a per-client
 * head from encodeFrameHead,
  encodeFrameMessage, a shared ~11 KB tail from frameDataTail):
 *
 * - A   head + tail joined into a fresh array per client (encodeFrameMessage), one ws.send;
 * - B   head and tail as two fragments of one message (what main does), the
 *       TCP sockets corked for the turn as src/send-batch.ts does;
 * - B'  the same two fragments without the turn's cork;
 * - C   the whole WebSocket frame built once (so one `ack` for all) and
 *       written to each client's net.Socket: the lower bound of sharing.
 *
 * Variants alternate in rounds (A B B' C A B B' C ...) so drift in the
 * machine's load falls on all of them; the report gives medians over rounds.
 * Measured per phase, in this process only (the clients run in a child
 * process, bench/fanout/clients.ts, which checks every message): CPU per
 * client per frame (process.cpuUsage), the fan-out loop's time per frame
 * and the time until the turn's uncork has written, and write syscalls
 * (write and writev both count in /proc/self/io's syscw). Between phases it
 * waits until the clients have every message sent, so no phase pays for
 * the last one's backlog. Like the server, it skips a client whose unsent
 * bytes exceed the high-water mark, and says how often it did.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import {
  encodeFrameHead,
  encodeFrameMessage,
  type FrameMessage,
  frameDataTail,
} from '../protocol/index.js';
import { exitOnSignals, killWithParent, stopChild } from './child-processes.js';
import { optionsHelp, readOptions, runMain } from './cli-options.js';
import type { FromClients, ToClients } from './fanout/clients.js';
import { median, stampedPayload, wsBinaryFrame } from './fanout/shared-frame.js';

const OPTIONS = {
  clients: {
    kind: 'intList',
    arg: 'N,..',
    default: [100, 500, 1000],
    min: 1,
    max: 5000,
    doc: 'client counts to measure, each in its own set of rounds',
  },
  seconds: {
    kind: 'number',
    arg: 'S',
    default: 5,
    min: 0.2,
    max: 600,
    doc: 'length of one phase (one variant, one round)',
  },
  rounds: {
    kind: 'int',
    arg: 'R',
    default: 3,
    min: 1,
    max: 100,
    doc: 'rounds of all variants per client count; the report is their median',
  },
  hz: { kind: 'int', arg: 'HZ', default: 60, min: 1, max: 240, doc: 'frames per second' },
  bytes: {
    kind: 'int',
    arg: 'B',
    default: 11_000,
    min: 16,
    max: 1_000_000,
    doc: "payload bytes per frame (a 10k-particle lobby's delta is ~11 KB)",
  },
} as const;

const USAGE = `Usage: npm run bench:fanout -- [options]

Sends the same ${OPTIONS.hz.default} Hz frames to N real WebSocket clients on 127.0.0.1
four ways (A: head+tail copied per client; B: two fragments in a per-turn
cork; B': two fragments, no cork; C: one WebSocket frame built once, written
to every socket), in interleaved rounds, and prints per variant the sender's
CPU per client per frame, fan-out loop time per frame, write syscalls and
the ratio to A. The clients run in a child process and check every message.

${optionsHelp(OPTIONS)}`;

type Variant = 'A' | 'B' | "B'" | 'C';
const VARIANTS: readonly Variant[] = ['A', 'B', "B'", 'C'];

/** The server's default send high-water mark (src/config.ts sendHighWaterBytes). */
const HIGH_WATER_BYTES = 256 * 1024;
/** Particles in the frame header's `n` (the lobby the payload size stands for). */
const PARTICLES = 10_000;
/** The one ack variant C sends every client (no input applied yet). */
const SHARED_ACK = -1;
/** How long the clients may take to catch up after a phase before the run fails. */
const DRAIN_TIMEOUT_MS = 60_000;
/** A short unmeasured phase per variant first, so every one runs JIT-compiled. */
const WARMUP_SECONDS = 1;

const FIRST_FRAGMENT = { binary: true, fin: false } as const;
const LAST_FRAGMENT = { binary: true, fin: true } as const;

interface Phase {
  variant: Variant;
  frames: number;
  /** Wall-clock length, ms, and the last tick sent. */
  ms: number;
  lastTick: number;
  /** Client messages sent (frames × clients less skips). */
  sent: number;
  skipped: number;
  /** Messages sent to each client, by index (what its checks must count). */
  perClient: number[];
  /** µs of CPU, user and system, of this process over the phase. */
  userUs: number;
  systemUs: number;
  /** Write syscalls (write + writev) of this process over the phase. */
  writes: number;
  /** Per frame: the loop's ms, and ms until the uncork flush had written (= loop without a cork). */
  loopMs: number[];
  flushMs: number[];
}

/** This process's write syscalls so far (write and writev both count), if Linux says. */
function writeSyscalls(): number {
  try {
    const match = /^syscw:\s*(\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The child process's end of the IPC channel, as request → answer. */
class Clients {
  #child = killWithParent(
    spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fanout/clients.ts', import.meta.url))],
      { stdio: ['pipe', 'inherit', 'inherit', 'ipc'] },
    ),
  );
  #waiting: Array<(message: FromClients) => void> = [];

  constructor() {
    this.#child.on('message', (message: FromClients) => this.#waiting.shift()?.(message));
    this.#child.on('exit', (code, signal) => {
      if (this.#waiting.length > 0)
        console.error(`bench:fanout: the clients' process exited (${code ?? signal})`);
    });
  }

  ask(message: ToClients): Promise<FromClients> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#child.send(message);
    });
  }

  stop(): Promise<void> {
    this.#child.stdin?.end();
    return stopChild(this.#child, 2000);
  }
}

/** The server end: N ws sockets, by the index each client gave in its URL. */
async function acceptClients(
  server: WebSocketServer,
  clients: Clients,
  n: number,
  payloadBytes: number,
): Promise<WebSocket[]> {
  const sockets = new Array<WebSocket>(n);
  const onConnection = (socket: WebSocket, request: IncomingMessage) => {
    const index = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('i'));
    sockets[index] = socket;
  };
  server.on('connection', onConnection);
  const port = (server.address() as { port: number }).port;
  await clients.ask({ type: 'connect', port, clients: n, payloadBytes });
  // The last upgrades may complete here a moment after the clients saw them open.
  while (sockets.filter(Boolean).length < n) await sleep(10);
  server.off('connection', onConnection);
  return sockets;
}

/** The net.Socket under a server-side ws socket (ws keeps it as `_socket`). */
const tcp = (socket: WebSocket): Socket => (socket as unknown as { _socket: Socket })._socket;

/**
 * Runs one phase: frames at `hz` for `seconds`, each sent to every client the
 * variant's way; returns what this process spent on it.
 */
async function runPhase(
  variant: Variant,
  sockets: WebSocket[],
  tcps: Socket[],
  filler: Uint8Array,
  seconds: number,
  hz: number,
  firstTick: number,
): Promise<Phase> {
  const phase: Phase = {
    variant,
    frames: 0,
    ms: 0,
    lastTick: firstTick - 1,
    sent: 0,
    skipped: 0,
    perClient: new Array<number>(sockets.length).fill(0),
    userUs: 0,
    systemUs: 0,
    writes: 0,
    loopMs: [],
    flushMs: [],
  };
  // The turn's cork, as src/send-batch.ts does it (bench/ may not import src/send-batch.ts).
  const held = new Set<Socket>();
  const hold = (socket: Socket) => {
    if (held.has(socket)) return;
    if (held.size === 0) process.nextTick(flush);
    held.add(socket);
    socket.cork();
  };
  const flush = () => {
    for (const socket of held) socket.uncork();
    held.clear();
  };

  const sendFrame = (tick: number): void => {
    // Encoded once per frame in every variant (the server's FrameEncoder memo); not the fan-out.
    const tail = frameDataTail(stampedPayload(filler, tick));
    const sentAt = performance.timeOrigin + performance.now();
    const header = (ack: number): Omit<FrameMessage, 'data'> => ({
      t: 'frame',
      tick,
      kind: 'delta',
      base: tick - 1,
      n: PARTICLES,
      ack,
      sent: sentAt,
    });
    const start = performance.now();
    let sent = 0;
    if (variant === 'C') {
      // One frame for everyone: one head (one ack), one copy of the tail, per frame.
      const frame = wsBinaryFrame(encodeFrameHead(header(SHARED_ACK)), tail);
      for (let i = 0; i < sockets.length; i++) {
        if (sockets[i].bufferedAmount > HIGH_WATER_BYTES) continue;
        tcps[i].write(frame);
        phase.perClient[i]++;
        sent++;
      }
    } else {
      for (let i = 0; i < sockets.length; i++) {
        const socket = sockets[i];
        if (socket.bufferedAmount > HIGH_WATER_BYTES) continue;
        if (variant === 'A') socket.send(encodeFrameMessage(header(i), tail));
        else {
          if (variant === 'B') hold(tcps[i]);
          socket.send(encodeFrameHead(header(i)), FIRST_FRAGMENT);
          socket.send(tail, LAST_FRAGMENT);
        }
        phase.perClient[i]++;
        sent++;
      }
    }
    const end = performance.now();
    phase.loopMs.push(end - start);
    phase.sent += sent;
    phase.skipped += sockets.length - sent;
    phase.frames++;
    // Queued after the cork's flush (nextTick is FIFO), so this sees its writes done.
    if (variant === 'B') process.nextTick(() => phase.flushMs.push(performance.now() - start));
    else phase.flushMs.push(end - start);
  };

  const interval = 1000 / hz;
  const cpu = process.cpuUsage();
  const writes = writeSyscalls();
  const start = performance.now();
  const end = start + seconds * 1000;
  // Frames on absolute deadlines (a late one does not push the later ones
  // back) until the phase's time is up: a sender that cannot keep the rate
  // sends fewer frames, and the report says at what rate.
  for (let k = 0; ; k++) {
    const due = start + k * interval;
    if (due >= end) break;
    const wait = due - performance.now();
    // Each frame its own event-loop turn, as the lobby's frames come to the
    // server, even when late: the turn's cork is released between frames.
    await (wait > 0 ? sleep(wait) : turn());
    sendFrame(firstTick + k);
    phase.lastTick = firstTick + k;
  }
  // Let the last frame's flush run before reading the counters.
  await turn();
  phase.ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  phase.userUs = used.user;
  phase.systemUs = used.system;
  phase.writes = writeSyscalls() - writes;
  return phase;
}

/** Waits until the clients have every message of the phase, whole, and checks them. */
async function drain(clients: Clients, sockets: WebSocket[], expected: number[]): Promise<void> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const report = await clients.ask({ type: 'report' });
    if (report.type !== 'report') throw new Error(`clients answered ${report.type} to report`);
    if (report.bad > 0)
      throw new Error(
        `${report.bad} messages failed the clients' checks; first: ${report.firstBad}`,
      );
    const got = report.messages.reduce((a, b) => a + b, 0);
    const want = expected.reduce((a, b) => a + b, 0);
    if (got === want) {
      const short = report.messages.findIndex((m, i) => m !== expected[i]);
      if (short >= 0)
        throw new Error(`client ${short} got ${report.messages[short]}, sent ${expected[short]}`);
      if (sockets.some((s) => s.bufferedAmount > 0)) throw new Error('bytes left unsent');
      return;
    }
    if (got > want) throw new Error(`clients got ${got} messages, ${want} were sent`);
    if (performance.now() > deadline)
      throw new Error(`clients got ${got} of ${want} messages within ${DRAIN_TIMEOUT_MS} ms`);
    await sleep(20);
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Deterministic random-ish filler (xorshift32): a delta payload does not compress either. */
function filler(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

interface Row {
  variant: Variant;
  n: number;
  cpuUs: number;
  userUs: number;
  systemUs: number;
  loopMs: number;
  flushMs: number;
  /** Frames per second achieved (below --hz when the sender could not keep up). */
  hz: number;
  writesPerClientFrame: number;
  skippedPct: number;
}

function summarise(n: number, phases: Phase[]): Row[] {
  return VARIANTS.map((variant) => {
    const mine = phases.filter((p) => p.variant === variant);
    const perSent = (f: (p: Phase) => number) => median(mine.map((p) => f(p) / p.sent));
    return {
      variant,
      n,
      cpuUs: perSent((p) => p.userUs + p.systemUs),
      userUs: perSent((p) => p.userUs),
      systemUs: perSent((p) => p.systemUs),
      loopMs: median(mine.map((p) => median(p.loopMs))),
      flushMs: median(mine.map((p) => median(p.flushMs))),
      hz: median(mine.map((p) => (1000 * p.frames) / p.ms)),
      writesPerClientFrame: perSent((p) => p.writes),
      skippedPct: median(mine.map((p) => (100 * p.skipped) / (p.sent + p.skipped))),
    };
  });
}

function printTable(rows: Row[]): void {
  const header = [
    'N',
    'variant',
    'CPU µs/client/frame',
    '(user+sys)',
    'vs A',
    'loop ms/frame',
    'to flush ms',
    'fps',
    'writes/client/frame',
    'skipped',
  ];
  const lines = rows.map((row) => {
    const a = rows.find((r) => r.n === row.n && r.variant === 'A');
    return [
      String(row.n),
      row.variant,
      row.cpuUs.toFixed(2),
      `${row.userUs.toFixed(2)}+${row.systemUs.toFixed(2)}`,
      a ? (row.cpuUs / a.cpuUs).toFixed(2) : '',
      row.loopMs.toFixed(3),
      row.flushMs.toFixed(3),
      row.hz.toFixed(1),
      row.writesPerClientFrame.toFixed(2),
      `${row.skippedPct.toFixed(1)}%`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  for (const line of [header, ...lines])
    console.log(line.map((c, i) => c.padEnd(widths[i])).join('  '));
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), OPTIONS);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  exitOnSignals();
  const { clients: counts, seconds, rounds, hz, bytes } = options.values;
  console.log(
    `bench:fanout: ${hz} Hz, ${bytes}-byte payload, ${seconds} s per phase, ${rounds} rounds; load ${load()}`,
  );
  const payload = filler(bytes);
  const rows: Row[] = [];
  let tick = 1;
  for (const n of counts) {
    const clients = new Clients();
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    try {
      const sockets = await acceptClients(server, clients, n, payload.byteLength);
      const tcps = sockets.map(tcp);
      const phases: Phase[] = [];
      const plan = [
        ...VARIANTS.map((v) => ({ variant: v, seconds: WARMUP_SECONDS, measured: false })),
        ...Array.from({ length: rounds }, () =>
          VARIANTS.map((v) => ({ variant: v, seconds, measured: true })),
        ).flat(),
      ];
      for (const step of plan) {
        await clients.ask({ type: 'phase', ack: step.variant === 'C' ? SHARED_ACK : 'own' });
        const phase = await runPhase(step.variant, sockets, tcps, payload, step.seconds, hz, tick);
        tick = phase.lastTick + 1;
        await drain(clients, sockets, phase.perClient);
        if (step.measured) phases.push(phase);
      }
      rows.push(...summarise(n, phases));
      console.log(`N=${n} done; load ${load()}`);
    } finally {
      for (const socket of server.clients) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await clients.stop();
    }
  }
  printTable(rows);
  console.log(`load at the end: ${load()}`);
  return 0;
}

runMain('bench:fanout', main);
