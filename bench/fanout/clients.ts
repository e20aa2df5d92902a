/**
 * The clients of `npm run bench:fanout`, in a process of their own so that
 * reading and decoding never lands in the sending process's CPU time (a
 * worker thread's would: process.cpuUsage counts every thread). Started by
 * bench/fanout.ts with an IPC channel; it owns N real `ws` clients and
 * checks every message each one gets: decodable by the protocol's
 * decodeMessage, a frame, its payload whole (length and the tick stamped at
 * both ends), ticks in order, and the ack the bench says this phase sends.
 *
 * IPC, parent → child: `connect` {port, clients}; `phase` {ack} (resets the
 * counts); `report`. Child → parent: `connected`, `ready`, `report`.
 * It exits when the IPC channel or its stdin (a pipe from the bench) closes,
 * so it never outlives the bench.
 */
import WebSocket from 'ws';
import { decodeMessage } from '../../protocol/index.js';
import { payloadTick } from './shared-frame.js';

/** What the bench tells the clients, one IPC message each. */
export type ToClients =
  | { type: 'connect'; port: number; clients: number; payloadBytes: number }
  /** `own`: each client's ack is its index; else every client gets this number. */
  | { type: 'phase'; ack: 'own' | number }
  | { type: 'report' };

/** What the clients answer. */
export type FromClients =
  | { type: 'connected' }
  | { type: 'ready' }
  | {
      type: 'report';
      /** Whole, valid frame messages per client since the phase began. */
      messages: number[];
      /** Bytes of those messages, all clients. */
      bytes: number;
      /** Messages that failed a check, and the first failure's description. */
      bad: number;
      firstBad?: string;
    };

/** Connections opened at once: the server's accept backlog is 511. */
const CONNECT_BATCH = 100;

let payloadBytes = 0;
let ack: 'own' | number = 'own';
let messages: number[] = [];
let lastTick: number[] = [];
let bytes = 0;
let bad = 0;
let firstBad: string | undefined;
const sockets: WebSocket[] = [];

const send = (message: FromClients) => process.send?.(message);

function fault(client: number, what: string): void {
  bad++;
  firstBad ??= `client ${client}: ${what}`;
}

function onMessage(client: number, data: Buffer): void {
  const decoded = decodeMessage(data);
  if (!decoded.ok) return fault(client, decoded.reason);
  const frame = decoded.value as Record<string, unknown>;
  if (frame.t !== 'frame') return fault(client, `not a frame: ${String(frame.t)}`);
  const payload = frame.data;
  if (!(payload instanceof Uint8Array) || payload.byteLength !== payloadBytes)
    return fault(client, 'payload missing or of the wrong length');
  const tick = payloadTick(payload);
  if (tick === undefined || tick !== frame.tick) return fault(client, 'payload stamps torn');
  if (tick <= lastTick[client]) return fault(client, `tick ${tick} after ${lastTick[client]}`);
  const expectedAck = ack === 'own' ? client : ack;
  if (frame.ack !== expectedAck) return fault(client, `ack ${frame.ack}, expected ${expectedAck}`);
  lastTick[client] = tick;
  messages[client]++;
  bytes += data.byteLength;
}

function open(port: number, client: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // The index in the URL: the bench's server gives each client its own ack.
    const socket = new WebSocket(`ws://127.0.0.1:${port}/?i=${client}`, {
      perMessageDeflate: false,
    });
    sockets[client] = socket;
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data: Buffer) => onMessage(client, data));
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
}

async function connect(port: number, clients: number): Promise<void> {
  messages = new Array<number>(clients).fill(0);
  lastTick = new Array<number>(clients).fill(-1);
  for (let first = 0; first < clients; first += CONNECT_BATCH) {
    const batch: Promise<void>[] = [];
    for (let i = first; i < Math.min(clients, first + CONNECT_BATCH); i++)
      batch.push(open(port, i));
    await Promise.all(batch);
  }
}

process.on('message', (message: ToClients) => {
  switch (message.type) {
    case 'connect':
      payloadBytes = message.payloadBytes;
      connect(message.port, message.clients).then(
        () => send({ type: 'connected' }),
        (error: unknown) => {
          console.error(`fanout clients: ${String(error)}`);
          process.exit(1);
        },
      );
      return;
    case 'phase':
      ack = message.ack;
      messages.fill(0);
      bytes = 0;
      bad = 0;
      firstBad = undefined;
      return send({ type: 'ready' });
    case 'report':
      return send({ type: 'report', messages, bytes, bad, firstBad });
  }
});
process.on('disconnect', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
