/**
 * How an instance leaves (SIGTERM, SIGINT, or a fatal error), in the order
 * that costs players least:
 * 1. `/readyz` answers 503 at once;
 * 2. wait SWARMHOST_DRAIN_DELAY_MS, so the load balancer's health checks see
 *    the instance leave before anyone is sent away (reconnecting players
 *    then reach another instance, not this one again);
 * 3. fleet mode: every lobby is frozen, checkpointed into Redis and
 *    released, then its players are closed with 4005; whichever instance
 *    they reach next resumes it from that checkpoint;
 * 4. any lobby still here is drained (players closed with 4005);
 * 5. resolve once every lobby has gone, or when SWARMHOST_DRAIN_TIMEOUT_MS
 *    (which counts from step 1, the delay included) runs out.
 * The caller then closes the listeners and exits 0.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from './app.js';

export async function drainInstance(app: App): Promise<void> {
  const { config, directory, fleet } = app;
  const deadline = performance.now() + config.drainTimeoutMs;
  app.ready = false;
  await sleep(Math.min(config.drainDelayMs, config.drainTimeoutMs));
  if (fleet) await fleet.drain();
  await directory.drainAll(Math.max(0, deadline - performance.now()));
}
