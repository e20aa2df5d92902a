/**
 * The last resort for errors nothing else caught. Every socket and message
 * handler is contained on its own (a failure there closes one connection
 * with 1011) and every lobby runs supervised, so reaching here means a bug
 * outside any client's path: a timer, a worker event, a library callback.
 *
 * - An unhandled promise rejection is logged and counted, and the process
 *   carries on: a forgotten `catch` leaves no half-changed state behind.
 * - An uncaught exception is logged at fatal and counted, and the instance
 *   drains and exits 1: the code that threw stopped halfway, and what it
 *   was changing can no longer be trusted. Draining lets players reconnect
 *   (4005) to another instance; the supervisor (systemd, Kubernetes,
 *   compose) starts a fresh one. A second one during the drain exits at once.
 */
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export function guardProcess(
  log: Logger,
  metrics: Metrics,
  drainAndExit: (code: number) => Promise<void>,
): void {
  let failing = false;
  process.on('unhandledRejection', (reason) => {
    metrics.processErrors.inc({ kind: 'unhandled_rejection' });
    log.error({ err: reason }, 'unhandled promise rejection (carrying on)');
  });
  process.on('uncaughtException', (error) => {
    metrics.processErrors.inc({ kind: 'uncaught_exception' });
    log.fatal({ err: error }, 'uncaught exception: draining, then exiting 1');
    if (failing) process.exit(1);
    failing = true;
    void drainAndExit(1).catch(() => process.exit(1));
  });
}
