/**
 * The command line besides settings: `--help` (usage, the flags, and every
 * environment variable with its default, generated from the settings table
 * so it cannot drift from it) and `--version` (server and protocol
 * version). main.ts asks `cliCommand` first and prints instead of serving.
 */
import { PROTOCOL_VERSION } from '../protocol/index.js';
import { FLAGS, SETTINGS } from './config.js';
import { SERVER_VERSION } from './version.js';

export const CliCommand = { serve: 'serve', help: 'help', version: 'version' } as const;
export type CliCommand = (typeof CliCommand)[keyof typeof CliCommand];

const HELP_FLAGS: readonly string[] = ['--help', '-h'];
const VERSION_FLAGS: readonly string[] = ['--version', '-v'];

/** What the arguments ask for: help wins over version, either over serving. */
export function cliCommand(argv: readonly string[]): CliCommand {
  if (argv.some((arg) => HELP_FLAGS.includes(arg))) return CliCommand.help;
  if (argv.some((arg) => VERSION_FLAGS.includes(arg))) return CliCommand.version;
  return CliCommand.serve;
}

/** One line: `swarmhost <version> (protocol <n>)`. */
export function versionText(): string {
  return `swarmhost ${SERVER_VERSION} (protocol ${PROTOCOL_VERSION})\n`;
}

/** How a default reads in help: lists joined, empty as (empty), machine-computed ones with their rule. */
function shownDefault(setting: { default: unknown; defaultDoc?: string }): string {
  const value = setting.default;
  const text = Array.isArray(value) ? value.join(',') : String(value);
  const shown = text === '' ? '(empty)' : text;
  return setting.defaultDoc ? `${shown} here (${setting.defaultDoc})` : shown;
}

export function helpText(): string {
  const flags = Object.entries(FLAGS).map(([flag, name]) => {
    const { env } = SETTINGS[name];
    return [`${flag} <value>`, `sets ${env} (also ${flag}=<value>)`];
  });
  flags.push([`${HELP_FLAGS.join(', ')}`, 'print this help and exit']);
  flags.push([`${VERSION_FLAGS.join(', ')}`, 'print the server and protocol versions and exit']);
  const usage = Object.keys(FLAGS)
    .map((flag) => `[${flag} <value>]`)
    .join(' ');
  const variables = Object.values(SETTINGS).map((setting) => [setting.env, shownDefault(setting)]);
  return [
    `swarmhost ${SERVER_VERSION} (protocol ${PROTOCOL_VERSION}): 60 Hz particle lobbies over binary WebSockets`,
    '',
    `Usage: node dist/src/main.js ${usage}`,
    `       npm start -- ${usage}`,
    '',
    'Options:',
    ...columns(flags),
    '',
    'Every other setting is an environment variable (ranges and meaning: docs/CONFIG.md).',
    'Variable and default:',
    ...columns(variables),
    '',
  ].join('\n');
}

/** Two columns, the first padded to its widest entry. */
function columns(rows: readonly string[][]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
