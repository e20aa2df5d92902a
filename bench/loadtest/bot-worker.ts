/**
 * A worker thread full of bots (bot.ts), so the load generator uses every
 * core. The main thread (bot-pool.ts) adds bots and asks for samples; a
 * sample carries each bot's running totals and the latencies recorded
 * since the previous sample, as a compressed HDR histogram.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { Bot } from './bot.js';
import type { PoolRequest, WorkerSample } from './bot-protocol.js';
import { newLatencyHistogram } from './latency-histogram.js';

const port = parentPort;
if (!port) throw new Error('bot-worker.ts runs as a worker thread');

const bots: Bot[] = [];
const latencies = newLatencyHistogram();
const sink = {
  latency(ms: number) {
    // Microseconds, as integers: a clock step backwards must not throw.
    latencies.recordValue(Math.max(0, Math.round(ms * 1000)));
  },
};

port.on('message', (request: PoolRequest) => {
  switch (request.type) {
    case 'add':
      for (const spec of request.bots) bots.push(new Bot(spec, sink));
      return;
    case 'sample': {
      const sample: WorkerSample = {
        type: 'sample',
        id: request.id,
        worker: (workerData as { index: number }).index,
        frames: bots.map((bot) => bot.frames),
        bytes: bots.map((bot) => bot.bytesReceived),
        skipped: bots.reduce((total, bot) => total + bot.skipped, 0),
        live: bots.reduce((total, bot) => total + (bot.live ? 1 : 0), 0),
        reconnects: bots.reduce((total, bot) => total + bot.connection.reconnects, 0),
        latency: hdr.encodeIntoCompressedBase64(latencies),
      };
      latencies.reset();
      port.postMessage(sample);
      return;
    }
    case 'stop':
      for (const bot of bots) bot.stop();
      // Give the close frames a moment to leave before the thread ends.
      setTimeout(() => port.postMessage({ type: 'stopped' }), 200);
      return;
  }
});
