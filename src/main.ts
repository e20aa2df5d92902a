/**
 * CLI entry: `node dist/src/main.js [--host H] [--port P]`, or `--help` /
 * `--version` to print and exit 0 (cli.ts). Reads and validates the
 * configuration (a bad value exits 2 with one line naming the setting),
 * logs one start-up line (versions, instance, effective config with secrets
 * redacted) and one warning naming any unknown SWARMHOST_* variable, serves
 * (on the admin port too when SWARMHOST_ADMIN_PORT is set), and on
 * SIGTERM/SIGINT drains (drain.ts: not ready, a pause for the load
 * balancer, lobbies handed over or drained, clients closed with 4005),
 * closes both listeners and exits 0.
 */
import { PROTOCOL_VERSION } from '../protocol/index.js';
import { buildApp } from './app.js';
import { CliCommand, cliCommand, helpText, versionText } from './cli.js';
import { ConfigError, type Config, loadConfig } from './config.js';
import { drainInstance } from './drain.js';
import { redactConfig } from './config-redaction.js';
import { guardProcess } from './process-guard.js';
import { describeUnknown, unknownVariables } from './unknown-variables.js';
import { SERVER_VERSION } from './version.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const command = cliCommand(argv);
  if (command !== CliCommand.serve) {
    process.stdout.write(command === CliCommand.help ? helpText() : versionText());
    return;
  }
  let config: Config;
  try {
    config = loadConfig(process.env, argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`swarmhost: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await buildApp(config);
  const log = app.fastify.log;
  log.info(
    {
      version: SERVER_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      instanceId: config.instanceId,
      // The app's: what runs (a particle budget left unset follows the kernel).
      config: redactConfig(app.config),
    },
    'swarmhost starting',
  );
  // A typo is not an error (the server runs on the defaults), but it must not go unseen.
  const unknown = unknownVariables(process.env);
  if (unknown.length > 0) log.warn({ unknown }, describeUnknown(unknown));
  const backlog = config.listenBacklog;
  await app.fastify.listen({ host: config.host, port: config.port, backlog });
  if (app.admin !== app.fastify)
    await app.admin.listen({ host: config.adminHost, port: config.adminPort, backlog });

  let stopping = false;
  const stop = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason, lobbies: app.directory.size }, 'draining');
    await drainInstance(app);
    // Closes the admin listener too (app.ts).
    await app.fastify.close();
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
  guardProcess(log, app.metrics, (code) => stop('uncaught exception', code));
}

main().catch((error) => {
  process.stderr.write(`swarmhost: fatal: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
