/**
 * permessage-deflate over real sockets: a `ws` WebSocketServer on
 * 127.0.0.1 (port 0) with one deflate setting, N clients in a child process
 * (socket-clients.ts), and the corpus's frames sent to every client as the
 * feed sends them (a per-client header over the shared payload). Measured:
 * bytes on the wire (the server sockets' bytesWritten) and the server's CPU
 * per frame per client (process.cpuUsage around one frame's sends until
 * ws says each was written, which covers ws's deflate on the libuv pool),
 * and the clients' CPU per frame per client (their inflate).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type PerMessageDeflateOptions, type WebSocket, WebSocketServer } from 'ws';
import { killWithParent, stopChild } from '../child-processes.js';
import { summarize } from '../stats.js';
import { type CorpusFrame, frameMessage } from './corpus.js';

export interface DeflateSetting {
  name: string;
  /** false: no permessage-deflate (the row the others are compared with). */
  options: false | PerMessageDeflateOptions;
}

/** The settings for these zlib levels: off, then each level with context takeover on and off. */
export function deflateSettings(levels: readonly number[]): DeflateSetting[] {
  const settings: DeflateSetting[] = [{ name: 'pmd off', options: false }];
  for (const level of levels)
    for (const takeover of [true, false])
      settings.push({
        name: `pmd deflate-${level}, ${takeover ? 'context takeover' : 'no context takeover'}`,
        options: {
          zlibDeflateOptions: { level },
          serverNoContextTakeover: !takeover,
          // Every frame message is far above ws's default 1 KB threshold;
          // keep it so the small messages stay as a real server sends them.
        },
      });
  return settings;
}

export interface SocketResult {
  setting: string;
  clients: number;
  /** Mean bytes written per delta message per client, WebSocket framing included. */
  wireBytesPerFrame: number;
  /** Server CPU per frame per client, ms (p50 over frames of cpu/clients). */
  serverCpuP50Ms: number;
  serverCpuMeanMs: number;
  /** Client CPU per frame per client, ms (a mean: one window for the whole run). */
  clientCpuMeanMs: number;
}

const CLIENTS_SCRIPT = fileURLToPath(new URL('./socket-clients.ts', import.meta.url));
/** A child that takes longer than this to connect or to read everything is stuck. */
const CHILD_TIMEOUT_MS = 60_000;

/**
 * Sends `keyframe` then `deltas` to `clients` clients under `setting`.
 * Only the deltas are measured: the keyframe is the join, and it puts each
 * client's deflate context in the state a live connection has.
 */
export async function measureSocket(
  setting: DeflateSetting,
  clients: number,
  particles: number,
  keyframe: CorpusFrame,
  deltas: CorpusFrame[],
): Promise<SocketResult> {
  const serverSockets: Socket[] = [];
  const http = createServer();
  http.on('connection', (socket) => serverSockets.push(socket));
  const wss = new WebSocketServer({ server: http, perMessageDeflate: setting.options });
  const peers: WebSocket[] = [];
  wss.on('connection', (ws) => peers.push(ws));
  await listen(http);
  const { port } = http.address() as AddressInfo;

  const child = killWithParent(
    spawn(
      process.execPath,
      ['--import', 'tsx', CLIENTS_SCRIPT, `ws://127.0.0.1:${port}/`, String(clients)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    ),
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[
    Symbol.asyncIterator
  ]();
  const nextLine = async (): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`socket clients: no answer in ${CHILD_TIMEOUT_MS} ms`)),
        CHILD_TIMEOUT_MS,
      );
    });
    try {
      const next = await Promise.race([lines.next(), timeout]);
      if (next.done) throw new Error(`socket clients exited (code ${child.exitCode})`);
      return next.value;
    } finally {
      clearTimeout(timer);
    }
  };
  const mark = async (
    total: number,
  ): Promise<{ messages: number; bytes: number; cpuUs: number }> => {
    child.stdin?.write(`mark ${total}\n`);
    return JSON.parse(await nextLine());
  };

  try {
    if ((await nextLine()) !== 'ready') throw new Error('socket clients did not get ready');
    while (peers.length < clients) await new Promise((resolve) => setImmediate(resolve));
    const negotiated = peers.every((ws) => ws.extensions.includes('permessage-deflate'));
    if (negotiated !== (setting.options !== false))
      throw new Error(`${setting.name}: permessage-deflate negotiated: ${negotiated}`);

    await sendToAll(peers, keyframe, particles);
    await mark(1);
    const bytesBefore = sum(serverSockets.map((s) => s.bytesWritten));
    const cpuPerClient: number[] = [];
    let payloadBytes = 0;
    for (const frame of deltas) {
      const [cpuMs, bytes] = await sendToAll(peers, frame, particles);
      cpuPerClient.push(cpuMs / clients);
      payloadBytes += bytes;
    }
    const wire = sum(serverSockets.map((s) => s.bytesWritten)) - bytesBefore;
    const seen = await mark(1 + deltas.length);
    if (seen.messages !== deltas.length * clients || seen.bytes !== payloadBytes)
      throw new Error(
        `${setting.name}: clients got ${seen.messages} messages of ${seen.bytes} B, sent ${deltas.length * clients} of ${payloadBytes} B`,
      );
    const cpu = summarize(cpuPerClient);
    return {
      setting: setting.name,
      clients,
      wireBytesPerFrame: wire / deltas.length / clients,
      serverCpuP50Ms: cpu.p50,
      serverCpuMeanMs: cpu.mean,
      clientCpuMeanMs: seen.cpuUs / 1000 / deltas.length / clients,
    };
  } finally {
    child.stdin?.end();
    await stopChild(child, 5_000);
    for (const ws of peers) ws.terminate();
    wss.close();
    await new Promise((resolve) => http.close(resolve));
  }
}

/**
 * One frame to every peer, each its own header (ack) over the shared
 * payload, as the feed does; resolves once ws has written all of them.
 * Returns the process CPU it took (ms, all threads) and the message bytes.
 */
async function sendToAll(
  peers: WebSocket[],
  frame: CorpusFrame,
  particles: number,
): Promise<[cpuMs: number, bytes: number]> {
  // Built before the clock starts: the same for every setting, and not
  // what is compared here.
  const messages = peers.map((_, ack) => frameMessage(frame, particles, frame.data, ack));
  const start = process.cpuUsage();
  await Promise.all(
    peers.map(
      (ws, i) =>
        new Promise<void>((resolve, reject) =>
          ws.send(messages[i], { binary: true }, (error) => (error ? reject(error) : resolve())),
        ),
    ),
  );
  const cpu = process.cpuUsage(start);
  return [(cpu.user + cpu.system) / 1000, sum(messages.map((m) => m.byteLength))];
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
