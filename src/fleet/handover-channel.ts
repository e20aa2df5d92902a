/**
 * How instances ask each other for a lobby: Redis pub/sub, one channel per
 * process (`<p>:instance:<holder>`). A non-owner that got a join asks the
 * owner to hand the lobby over; the owner answers `released` once the
 * checkpoint is stored and the lease is free, or `refused` (damped: it has
 * had the lobby too briefly; try after `retryAfterMs`). Messages are hints,
 * never the authority: a lost one costs a poll of the lease, and a dead
 * owner's lease simply lapses.
 */
import type { RedisConnection } from './redis-connection.js';

export type HandoverMessage =
  | { t: 'handOver'; lobby: string; from: string }
  | { t: 'released'; lobby: string }
  | { t: 'refused'; lobby: string; retryAfterMs: number; reason: string };

export class HandoverChannel {
  #redis: RedisConnection;
  #prefix: string;

  constructor(redis: RedisConnection, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #channel(holder: string): string {
    return `${this.#prefix}:instance:${holder}`;
  }

  /** Listens on this process's channel; `onMessage` hears every well-formed message. */
  async listen(holder: string, onMessage: (message: HandoverMessage) => void): Promise<void> {
    const channel = this.#channel(holder);
    this.#redis.subscriber.on('message', (from: string, text: string) => {
      if (from !== channel) return;
      const message = parse(text);
      if (message) onMessage(message);
    });
    await this.#redis.subscriber.subscribe(channel);
  }

  async send(holder: string, message: HandoverMessage): Promise<void> {
    await this.#redis.run('publish', (redis) =>
      redis.publish(this.#channel(holder), JSON.stringify(message)),
    );
  }
}

function parse(text: string): HandoverMessage | undefined {
  try {
    const value = JSON.parse(text) as Partial<HandoverMessage> | null;
    if (typeof value?.lobby !== 'string') return undefined;
    if (value.t === 'handOver' && typeof value.from === 'string') return value as HandoverMessage;
    if (value.t === 'released') return value as HandoverMessage;
    if (value.t === 'refused' && typeof value.retryAfterMs === 'number')
      return value as HandoverMessage;
  } catch {
    // Not ours: someone else publishing on our channel.
  }
  return undefined;
}
