/**
 * The scheduling priority lobby workers ask for (SWARMHOST_WORKER_NICE and
 * SWARMHOST_WORKER_REALTIME), and how their answers are logged. Realtime is
 * asked for only while at least one usable core (usable-cores.ts: affinity
 * and cgroup quota) is left without a lobby worker: the main thread serves
 * every socket, and realtime threads on every core could starve it, or, in
 * a CPU-limited container, take more than the container's share.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { PriorityRequest, ThreadPriority } from '../lobbies/index.js';
import type { Config } from './config.js';
import { usableCores } from './usable-cores.js';

export function workerPriorityRequest(
  config: Pick<Config, 'workers' | 'workerNice' | 'workerRealtime'>,
  cores = usableCores(),
  platform: NodeJS.Platform = process.platform,
): { request: PriorityRequest; note?: string } {
  if (platform !== 'linux') {
    return {
      request: { nice: null, realtime: null },
      note: `lobby workers keep the default priority: per-thread priority needs Linux, this is ${platform}`,
    };
  }
  const nice = config.workerNice === 0 ? null : config.workerNice;
  if (config.workerRealtime === 0) return { request: { nice, realtime: null } };
  if (config.workers >= cores) {
    return {
      request: { nice, realtime: null },
      note: `lobby workers do not use realtime priority: ${config.workers} workers on ${cores} usable cores would leave the main thread no core of its own`,
    };
  }
  return { request: { nice, realtime: config.workerRealtime } };
}

export function logWorkerStarted(
  log: FastifyBaseLogger,
  worker: number,
  priority: ThreadPriority,
): void {
  if (priority.refused.length === 0) {
    log.info({ worker, ...priority }, 'lobby worker started');
  } else {
    log.warn(
      { worker, ...priority },
      'lobby worker runs at a lower priority than configured: its ticks may start late when the cores are busy',
    );
  }
}
