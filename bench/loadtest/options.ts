/**
 * `npm run loadtest`'s command line: the usage text and the parsing of every
 * option into a checked LoadtestOptions (a bad value is a UsageError: one
 * line, exit 2). The ramp and stop-condition mini-languages live in ramp.ts
 * and until.ts.
 */
import { SEND_RATES, type SendRate } from '../../protocol/index.js';
import { intOption, parseOptions, UsageError } from '../cli-options.js';
import { parseRamp, type Ramp } from './ramp.js';
import { parseUntil, UNTIL_METRICS, type UntilCondition } from './until.js';

export interface LoadtestOptions {
  /** The server (or load balancer) to test; undefined: start one on 127.0.0.1 for the run. */
  url: string | undefined;
  /** Where /metrics is scraped: the server itself, or each instance behind a balancer. */
  metricsUrls: string[];
  /** Bearer token for POST /lobbies and PATCH /config (or SWARMHOST_ADMIN_TOKEN). */
  token: string | undefined;
  lobbies: number;
  /** Clients per lobby at the start (the ramp adds to them). */
  clients: number;
  /** Particles per lobby; undefined: the server's default for lobbies joined by URL. */
  particles: number | undefined;
  /** Longest the whole run may take, seconds. */
  durationS: number;
  /** How many bots decode the particle data; the rest read each frame's header only. */
  decode: number | undefined;
  /** The send rate every bot asks for (frames per second); the server's own when undefined. */
  sendRate: SendRate | undefined;
  ramp: Ramp | undefined;
  until: UntilCondition[];
  /** Seconds of each step that are measured (the rest, at its start, lets the load settle). */
  settleS: number;
  /** Worker threads running the bots. */
  workers: number;
  out: string;
  /** Prefix of the lobby ids this run uses (unique per run by default). */
  lobbyPrefix: string;
}

export const USAGE = `npm run loadtest -- [options]

Connects bots (worker threads speaking the real protocol) to lobbies, raises
the load step by step, measures what players and the server see, stops at the
first step that breaks a --until limit, and writes result.json and a
self-contained report.html with the ceiling marked.

  --url URL            server or load balancer, http://HOST:PORT
                       (default: start a server on 127.0.0.1 for the run)
  --metrics URL,...    where to scrape /metrics: each instance behind a
                       balancer, or an admin port (default: URL/metrics)
  --token T            admin token for POST /lobbies and PATCH /config
                       (default: $SWARMHOST_ADMIN_TOKEN)
  --lobbies L          lobbies at the start                   (default 1, 1..10000)
  --clients C          clients per lobby at the start         (default 10, 0..100000)
  --particles N        particles per lobby; needs --token with --url
                       (default: the server's default for lobbies joined by URL)
  --duration S         longest the run may take, seconds      (default 60, 1..86400)
  --decode K           only K bots decode particle data, the rest read
                       each frame's header (default: all)
  --send-rate R        the frame rate every bot asks for: one of
                       ${SEND_RATES.join(', ')} per second (default: the server's)
  --ramp WHAT:+N/Ts    every T seconds add N clients (to each lobby) or
                       N lobbies (each with --clients clients), e.g.
                       clients:+50/10s or lobbies:+1/10s (default: no ramp,
                       one step as long as --duration)
  --until LIMITS       stop at the first step that breaks one, e.g.
                       "tick_p99>16.7ms,client_fps<55,latency_p99>100ms"
                       (default: those three and connected<100%, with the
                       fps limit at 55/60 of --send-rate when it is given).
                       Metrics:
${Object.entries(UNTIL_METRICS)
  .map(([name, m]) => `                         ${`${name} (${m.unit})`.padEnd(22)}${m.help}`)
  .join('\n')}
  --settle S           seconds at the start of each step left out of its
                       measurements (default 3, 0..3600)
  --workers W          bot worker threads (default: the cores, 1..64)
  --out DIR            where result.json and report.html go
                       (default loadtest-results/<timestamp>/)
  --lobby-prefix P     lobby id prefix (default lt-<random>)
  -h, --help           this text
`;

const OPTIONS = {
  url: { type: 'string' },
  metrics: { type: 'string' },
  token: { type: 'string' },
  lobbies: { type: 'string' },
  clients: { type: 'string' },
  particles: { type: 'string' },
  duration: { type: 'string' },
  decode: { type: 'string' },
  'send-rate': { type: 'string' },
  ramp: { type: 'string' },
  until: { type: 'string' },
  settle: { type: 'string' },
  workers: { type: 'string' },
  out: { type: 'string' },
  'lobby-prefix': { type: 'string' },
} as const;

export const DEFAULT_UNTIL = 'tick_p99>16.7ms,client_fps<55,latency_p99>100ms,connected<100%';

/** The default limits; a client at send rate R should get R frames a second, so it is held to 55/60 of R. */
export function defaultUntil(sendRate: number | undefined): string {
  if (sendRate === undefined) return DEFAULT_UNTIL;
  const fps = Math.round(((sendRate * 55) / 60) * 10) / 10;
  return DEFAULT_UNTIL.replace('client_fps<55', `client_fps<${fps}`);
}

/** Parses argv; returns undefined for --help (the caller prints USAGE). */
export function parseLoadtestOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
  cores: number,
  now: Date,
): LoadtestOptions | undefined {
  const values = parseOptions(argv, OPTIONS);
  if (values.help) return undefined;
  const url = values.url === undefined ? undefined : httpUrl('url', String(values.url));
  const metricsUrls =
    values.metrics === undefined
      ? url === undefined
        ? []
        : [`${url}/metrics`]
      : String(values.metrics)
          .split(',')
          .map((part) => httpUrl('metrics', part.trim()));
  const token = (values.token as string | undefined) ?? (env.SWARMHOST_ADMIN_TOKEN || undefined);
  const particles =
    values.particles === undefined ? undefined : intOption(values, 'particles', 0, 1, 1_000_000);
  const sendRate = values['send-rate'] === undefined ? undefined : readSendRate(values);
  if (url !== undefined && token === undefined) {
    if (particles !== undefined)
      throw new UsageError('--particles against --url creates lobbies: it needs --token');
  }
  const prefix = (values['lobby-prefix'] as string | undefined) ?? `lt-${randomTag()}`;
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(prefix))
    throw new UsageError(`--lobby-prefix must be 1..40 of [A-Za-z0-9_-], got '${prefix}'`);
  const decodeRaw = values.decode;
  return {
    url,
    metricsUrls,
    token,
    lobbies: intOption(values, 'lobbies', 1, 1, 10_000),
    clients: intOption(values, 'clients', 10, 0, 100_000),
    particles,
    durationS: intOption(values, 'duration', 60, 1, 86_400),
    decode: decodeRaw === undefined ? undefined : intOption(values, 'decode', 0, 0, 1_000_000),
    sendRate,
    ramp: values.ramp === undefined ? undefined : parseRamp(String(values.ramp)),
    until: parseUntil(String(values.until ?? defaultUntil(sendRate))),
    settleS: intOption(values, 'settle', 3, 0, 3600),
    workers: intOption(values, 'workers', Math.max(1, cores), 1, 64),
    out: (values.out as string | undefined) ?? `loadtest-results/${timestamp(now)}`,
    lobbyPrefix: prefix,
  };
}

function httpUrl(option: string, raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError(`--${option} must be an http:// or https:// URL, got '${raw}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new UsageError(`--${option} must be an http:// or https:// URL, got '${raw}'`);
  return raw.replace(/\/+$/, '');
}

const randomTag = (): string => Math.random().toString(36).slice(2, 8);

/** 2026-11-30T03-20-05Z: sortable and safe in a path on every OS. */
const timestamp = (now: Date): string =>
  now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');

/** --send-rate: one of the rates a client may ask for. */
function readSendRate(values: Record<string, unknown>): SendRate {
  const hz = Number(values['send-rate']);
  if (!(SEND_RATES as readonly number[]).includes(hz))
    throw new UsageError(
      `--send-rate must be one of ${SEND_RATES.join(', ')}, got '${values['send-rate']}'`,
    );
  return hz as SendRate;
}
