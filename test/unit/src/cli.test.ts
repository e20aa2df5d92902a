/**
 * The command line as a child process: `--help` prints usage, the flags and
 * every setting's variable with its default, `--version` the server and
 * protocol versions; both exit 0 without serving. Once serving, the first
 * log lines are the start-up line (versions, instance id, effective config
 * with secrets redacted) and one warning naming unknown SWARMHOST_*
 * variables; the server still starts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../../protocol/version.js';
import { SETTINGS } from '../../../src/config.js';
import { REDACTED } from '../../../src/config-redaction.js';
import { SERVER_VERSION } from '../../../src/version.js';
import {
  killServerProcesses,
  listeningPort,
  startServerProcess as start,
  within,
} from '../../support/server-process.js';

afterEach(killServerProcesses);

describe('--help and --version', () => {
  it('--help prints usage, the flags and every variable with its default, and exits 0', async () => {
    const child = start({}, ['--help']);
    expect(await within(child.exited, 15_000, 'exit after --help')).toEqual({
      code: 0,
      signal: null,
    });
    expect(child.stderr()).toBe('');
    const help = child.stdout();
    expect(help).toContain(`swarmhost ${SERVER_VERSION} (protocol ${PROTOCOL_VERSION})`);
    for (const flag of ['--host', '--port', '--help', '--version']) expect(help).toContain(flag);
    expect(help).toContain('docs/CONFIG.md');
    const lines = help.split('\n');
    for (const setting of Object.values(SETTINGS)) {
      const row = lines.find((line) => line.trim().split(/\s+/)[0] === setting.env);
      expect(row, setting.env).toBeDefined();
    }
    expect(lines.find((line) => line.includes('SWARMHOST_TICK_RATE'))).toMatch(
      /^\s+SWARMHOST_TICK_RATE\s+60$/,
    );
    expect(lines.find((line) => line.includes('SWARMHOST_ADMIN_TOKEN'))).toMatch(/\(empty\)$/);
  });

  it('-h is --help, and help wins over other arguments', async () => {
    const child = start({}, ['--port', '9', '-h', '--bogus']);
    expect((await within(child.exited, 15_000, 'exit after -h')).code).toBe(0);
    expect(child.stdout()).toContain('Usage:');
  });

  it('--version prints the server and protocol versions and exits 0', async () => {
    const child = start({}, ['--version']);
    expect(await within(child.exited, 15_000, 'exit after --version')).toEqual({
      code: 0,
      signal: null,
    });
    expect(child.stdout()).toBe(`swarmhost ${SERVER_VERSION} (protocol ${PROTOCOL_VERSION})\n`);
    expect(child.stderr()).toBe('');
  });
});

describe('start-up logs', () => {
  it('logs versions and the redacted config, warns of unknown variables, and serves', async () => {
    const secret = 'start-up-secret-7c1e';
    const child = start({
      PORT: '0',
      HOST: '127.0.0.1',
      SWARMHOST_LOG_LEVEL: 'info',
      SWARMHOST_INSTANCE_ID: 'cli-test',
      SWARMHOST_ADMIN_TOKEN: secret,
      SWARMHOST_MAX_LOBBY: '3',
      // A misspelt secret: its value must not be logged either.
      SWARMHOST_ADMIN_TOKN: secret,
    });
    const port = await within(listeningPort(child), 15_000, 'the "Server listening" log line');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    child.process.kill('SIGTERM');
    expect((await within(child.exited, 10_000, 'exit after SIGTERM')).code).toBe(0);

    expect(child.stdout()).not.toContain(secret);
    const entries = child
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const startup = entries.filter((entry) => entry.msg === 'swarmhost starting');
    expect(startup).toHaveLength(1);
    expect(startup[0]).toMatchObject({
      level: 30,
      version: SERVER_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      instanceId: 'cli-test',
      config: {
        port: 0,
        instanceId: 'cli-test',
        maxLobbies: SETTINGS.maxLobbies.default,
        adminToken: REDACTED,
      },
    });
    const warnings = entries.filter((entry) => entry.level === 40);
    expect(warnings).toEqual([
      expect.objectContaining({
        unknown: [
          { variable: 'SWARMHOST_ADMIN_TOKN', didYouMean: 'SWARMHOST_ADMIN_TOKEN' },
          { variable: 'SWARMHOST_MAX_LOBBY', didYouMean: 'SWARMHOST_MAX_LOBBIES' },
        ],
      }),
    ]);
    expect(warnings[0].msg).toMatch(
      /^unknown environment variables ignored: SWARMHOST_ADMIN_TOKN \(did you mean SWARMHOST_ADMIN_TOKEN\?\), SWARMHOST_MAX_LOBBY \(did you mean SWARMHOST_MAX_LOBBIES\?\)/,
    );
  });
});
