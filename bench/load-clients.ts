/**
 * bench:load's clients, behind one shape so the measuring code does not care
 * where they run: in the bench's own process (where some can stop reading,
 * by pausing their socket), or spread over worker threads (the load
 * generator's bot pool), so that a thousand clients' parsing does not pile
 * up on one event loop and slow the measurement instead of the server.
 */
import WebSocket from 'ws';
import { LobbyClient, type SendRate, type SocketLike } from '../protocol/index.js';
import { CountingSocket } from './counting-socket.js';
import { BotPool } from './loadtest/bot-pool.js';

export interface LoadClients {
  /** Opens every client's socket at once (the connect time runs from here). */
  start(): void;
  /** Running totals per client, each client at the same place in every call. */
  counts(): Promise<{ frames: number[]; bytes: number[]; closed: number }>;
  /** Socket errors (refused or timed-out handshakes) so far; -1 where not known. */
  readonly failed: number;
  /** Stops reading on the first `count` clients (in-process only). */
  pause(count: number): void;
  close(): Promise<void>;
}

export interface ClientPlan {
  url: string;
  clients: number;
  /** Whether client i decodes particle data (the rest read each frame's header only). */
  decodes: (i: number) => boolean;
  /** The send rate each asks for after its welcome; the server's default when undefined. */
  rate: SendRate | undefined;
}

/** One client in this process, whichever kind. */
interface Reader {
  readonly frames: number;
  readonly bytesReceived: number;
  readonly closeCode: number | undefined;
  /** Stops reading its socket (the server sees it back up). */
  pause(): void;
  close(): void;
  terminate(): void;
}

/**
 * Every client in this process: the decoding ones LobbyClients over ws; the
 * others too with `readers: 'ws'` (each message parsed and its envelope
 * decoded), or CountingSockets with `readers: 'raw'` (counted by their first
 * bytes: the cheapest real client, counting-socket.ts).
 */
export function inProcessClients(plan: ClientPlan, readers: 'ws' | 'raw'): LoadClients {
  let failed = 0;
  const clients: Reader[] = [];
  let paused: Reader[] = [];
  const start = () => {
    for (let i = 0; i < plan.clients; i++) {
      if (readers === 'raw' && !plan.decodes(i))
        clients.push(new CountingSocket(plan.url, plan.rate));
      else clients.push(lobbyClientReader(plan, plan.decodes(i), () => failed++));
    }
  };
  return {
    start,
    counts: async () => ({
      frames: clients.map((c) => c.frames),
      bytes: clients.map((c) => c.bytesReceived),
      closed: clients.filter((c) => c.closeCode !== undefined).length,
    }),
    get failed() {
      return failed + clients.filter((c) => c instanceof CountingSocket && c.failed).length;
    },
    pause(count) {
      paused = clients.slice(0, count);
      for (const c of paused) c.pause();
    },
    async close() {
      // A paused client never reads the server's close frame: drop it now
      // rather than after ws's close timeout (30 s), which kept this process
      // alive after its results.
      for (const c of paused) c.terminate();
      for (const c of clients) if (!paused.includes(c) && c.closeCode === undefined) c.close();
    },
  };
}

function lobbyClientReader(plan: ClientPlan, decode: boolean, onError: () => void): Reader {
  const socket = new WebSocket(plan.url);
  // A refused or timed-out handshake is counted, not fatal.
  socket.on('error', onError);
  const client = new LobbyClient(
    socket as unknown as SocketLike,
    { welcome: () => (plan.rate === undefined ? undefined : client.requestRate(plan.rate)) },
    { decode },
  );
  return {
    get frames() {
      return client.frames;
    },
    get bytesReceived() {
      return client.bytesReceived;
    },
    get closeCode() {
      return client.closeCode;
    },
    pause: () => (socket as unknown as { _socket: { pause(): void } })._socket.pause(),
    close: () => client.close(),
    terminate: () => socket.terminate(),
  };
}

/** The clients spread over `threads` worker threads, as the load generator's bots. */
export async function workerClients(plan: ClientPlan, threads: number): Promise<LoadClients> {
  const pool = new BotPool(threads);
  // Every worker up and answering (loading its modules takes a second), so
  // that the connect time is the server's and not the threads' start.
  await pool.sample();
  return {
    start: () =>
      pool.add(
        Array.from({ length: plan.clients }, (_, i) => ({
          url: plan.url,
          decode: plan.decodes(i),
          rate: plan.rate,
        })),
      ),
    async counts() {
      // Flattened in worker order: the same client at the same place in every sample.
      const { workers } = await pool.sample();
      const frames = workers.flatMap((w) => w.frames);
      // Bots reconnect when closed rather than end, so none counts as closed.
      return { frames, bytes: workers.flatMap((w) => w.bytes), closed: 0 };
    },
    failed: -1,
    pause(count) {
      if (count > 0) throw new Error('clients on worker threads cannot stop reading');
    },
    close: () => pool.stop(),
  };
}
