/**
 * The fleet's two Redis connections (ioredis): one for commands, one for
 * pub/sub (a subscribed connection can do nothing else). Owns their options
 * and their health: while Redis is unreachable commands fail at once (no
 * offline queue, so nothing waits behind a dead connection and a join is
 * answered now), ioredis reconnects with a capped backoff, and the
 * subscriber re-subscribes by itself. Every command goes through `run`,
 * which times it and counts failures by operation.
 */
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { LogThrottle } from '../log-throttle.js';
import type { FleetMetrics, RedisOp } from './fleet-metrics.js';

/** Reconnect delays: 100 ms more per attempt, at most this. */
const MAX_RECONNECT_DELAY_MS = 2000;

export class RedisConnection {
  readonly commands: Redis;
  readonly subscriber: Redis;
  #metrics: FleetMetrics;
  #log: Logger;
  #errorLog: LogThrottle;
  #closed = false;

  constructor(config: Config, metrics: FleetMetrics, log: Logger) {
    this.#metrics = metrics;
    this.#log = log;
    // A Redis that is down fails every reconnect: one line per 10 s is enough.
    this.#errorLog = new LogThrottle(log, { intervalMs: 10_000 });
    const options = {
      commandTimeout: config.redisTimeoutMs,
      connectTimeout: Math.max(config.redisTimeoutMs, 1000),
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt: number) =>
        this.#closed ? null : Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
      lazyConnect: true,
    };
    this.commands = new Redis(config.redisUrl, { ...options, enableOfflineQueue: false });
    // Subscriptions made before the connection is up wait for it, and are
    // made again after every reconnect.
    this.subscriber = new Redis(config.redisUrl, {
      ...options,
      commandTimeout: undefined,
      enableOfflineQueue: true,
      autoResubscribe: true,
    });
    for (const [name, client] of [
      ['commands', this.commands],
      ['subscriber', this.subscriber],
    ] as const) {
      // Without a listener ioredis prints every connection error itself.
      client.on('error', (error: Error) => {
        this.#errorLog.log('warn', name, { err: error, connection: name }, 'redis error');
      });
    }
    this.commands.on('ready', () => {
      metrics.redisUp.set(1);
      log.info('redis connected');
    });
    this.commands.on('close', () => {
      metrics.redisUp.set(0);
      if (!this.#closed) log.warn('redis connection lost: reconnecting');
    });
  }

  /** Connects both; resolves when the command connection is ready or after `timeoutMs` (it keeps trying). */
  async connect(timeoutMs: number): Promise<boolean> {
    const ready = (client: Redis) =>
      client.connect().then(
        () => true,
        () => false,
      );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    void ready(this.subscriber);
    const ok = await Promise.race([ready(this.commands), timeout]);
    clearTimeout(timer);
    if (!ok)
      this.#log.error(
        'redis is not reachable yet: joins of lobbies not running here are refused until it is',
      );
    return ok;
  }

  get ready(): boolean {
    return this.commands.status === 'ready';
  }

  /** Runs one command, timed and counted; rethrows its error. */
  async run<T>(op: RedisOp, command: (redis: Redis) => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await command(this.commands);
    } catch (error) {
      this.#metrics.redisErrors.inc({ op });
      throw error;
    } finally {
      this.#metrics.redisDuration.observe({ op }, (performance.now() - started) / 1000);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#metrics.redisUp.set(0);
    await Promise.allSettled([this.commands.quit(), this.subscriber.quit()]);
    this.commands.disconnect();
    this.subscriber.disconnect();
  }
}
