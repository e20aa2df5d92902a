/**
 * `npm run dev`: the whole thing from source, reloading as you edit. Builds
 * the browser client and keeps rebuilding it (client/build.ts watch mode),
 * then runs `tsx watch src/main.ts` with its JSON log lines made readable by
 * pino-pretty (only here: production logs stay JSON). Ctrl-C (SIGINT),
 * SIGTERM or SIGHUP (the terminal closed) stops both: the server drains and exits, the watcher stops, and
 * this process exits with the server's code.
 *
 *   npm run dev [-- --port 9000]      (arguments go to the server)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pretty from 'pino-pretty';
import { CLIENT_OUT_DIR, watchClient } from '../client/index.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const tsxCli = fileURLToPath(import.meta.resolve('tsx/cli'));

const say = (line: string) => process.stdout.write(`[dev] ${line}\n`);

const client = await watchClient(CLIENT_OUT_DIR, (errors) =>
  say(errors === 0 ? 'client rebuilt' : 'client build failed (the last good build is served)'),
);
say(`client built into ${CLIENT_OUT_DIR}; rebuilt on change`);

// Its own process group: a terminal's Ctrl-C reaches only us, and we pass
// exactly one SIGINT on (tsx watch kills the server outright on a second).
const server = spawn(process.execPath, [tsxCli, 'watch', 'src/main.ts', ...process.argv.slice(2)], {
  cwd: repoRoot,
  stdio: ['ignore', 'pipe', 'inherit'],
  detached: true,
});
// One line per entry, local time: a terminal's worth of requests stays readable.
server.stdout.pipe(
  pretty({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true, sync: true }),
);

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  say(`${signal}: stopping`);
  if (server.exitCode === null && server.signalCode === null) server.kill(signal);
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
// A closed terminal: stop the server as for Ctrl-C.
process.on('SIGHUP', () => stop('SIGINT'));
// However this process ends, its own process group (detached above) must
// not outlive it holding the port.
process.on('exit', () => {
  if (server.pid !== undefined && server.exitCode === null && server.signalCode === null) {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
});

server.on('close', (code, signal) => {
  void client.stop().then(() => {
    if (!stopping) say(`server exited (${code ?? signal})`);
    process.exit(code ?? 1);
  });
});
