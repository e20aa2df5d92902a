/** The messages between the load generator's main thread (bot-pool.ts) and its bot workers. */
import type { SendRate } from '../../protocol/index.js';

export interface BotSpec {
  /** ws:// URL of the lobby. */
  url: string;
  decode: boolean;
  /** The send rate the bot asks for (a `rate` message after each welcome); the server's own otherwise. */
  rate?: SendRate;
}

export type PoolRequest =
  | { type: 'add'; bots: BotSpec[] }
  | { type: 'sample'; id: number }
  | { type: 'stop' };

export interface WorkerSample {
  type: 'sample';
  id: number;
  /** The worker's index in the pool. */
  worker: number;
  /** Running totals per bot, in the order they were added to this worker. */
  frames: number[];
  bytes: number[];
  /** Running totals over the worker's bots. */
  skipped: number;
  reconnects: number;
  /** Bots welcomed and connected now. */
  live: number;
  /** Latencies (µs) since the previous sample: hdr-histogram-js compressed base64. */
  latency: string;
}

export type WorkerReply = WorkerSample | { type: 'stopped' };
