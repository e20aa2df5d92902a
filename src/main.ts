/**
 * CLI entry: `node dist/src/main.js [--host H] [--port P]`. Reads and
 * validates the configuration (a bad value exits 2 with one line naming the
 * setting), serves (on the admin port too when SWARMHOST_ADMIN_PORT is set),
 * and on SIGTERM/SIGINT drains: not ready, lobbies told to drain (clients
 * are closed with 4005 and reconnect elsewhere), both listeners closed, exit 0.
 */
import { buildApp } from './app.js';
import { ConfigError, type Config, loadConfig } from './config.js';
import { guardProcess } from './process-guard.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`swarmhost: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await buildApp(config);
  await app.fastify.listen({ host: config.host, port: config.port });
  if (app.admin !== app.fastify)
    await app.admin.listen({ host: config.adminHost, port: config.adminPort });

  let stopping = false;
  const stop = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    app.ready = false;
    app.fastify.log.info({ reason, lobbies: app.directory.size }, 'draining');
    await app.directory.drainAll(config.drainTimeoutMs);
    // Closes the admin listener too (app.ts).
    await app.fastify.close();
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
  guardProcess(app.fastify.log, app.metrics, (code) => stop('uncaught exception', code));
}

main().catch((error) => {
  process.stderr.write(`swarmhost: fatal: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
