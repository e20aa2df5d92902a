/**
 * Every benchmark script in package.json (`bench:*`, `fuzz`, `loadtest`, `fleet:local`),
 * run as npm runs it (its command under `sh -c`, node_modules/.bin on the
 * PATH), answers `--help` with a usage text and exit 0, and refuses an
 * unknown flag or a bad number with exit 2 and a message, never a stack
 * trace. The scripts are read from package.json, so a new one is covered
 * the day it is added. One tiny bench:load run with a client that stops
 * reading must end by itself (it used to hang 30 s after its results) and
 * leave no process behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../bench/free-port.js';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** What must not leak in from the shell or from an `npm test` around us. */
const STRIPPED_ENV = /^(HOST|PORT|SWARMHOST_.*|npm_.*|NODE_ENV)$/i;
/** Scripts that are benchmarks or long runs, whatever else package.json holds. */
const BENCH_SCRIPT = /^(bench:.+|fuzz|loadtest|fleet:local)$/;
/** A stack frame line, as Node prints them. */
const STACK_FRAME = /^\s+at /m;
/** --help and refusals load the script and its imports, nothing more. */
const QUICK_RUN_MS = 20_000;
/** The tiny bench:load run: a server start, 1 s measured, a drain. A hang bound, not a speed target. */
const LOAD_RUN_MS = 20_000;

/**
 * A numeric option per script, for the bad-value case. A script not listed
 * gets the first option its --help gives a numeric default.
 */
const NUMERIC_OPTION: Record<string, string> = {
  'bench:sim': 'ticks',
  'bench:load': 'clients',
  'bench:client': 'seconds',
  'bench:jitter': 'particles',
  'bench:admission': 'lobbies',
  'bench:handover': 'moves',
  'bench:checkpoint': 'runs',
  'fleet:local': 'instances',
  loadtest: 'clients',
  fuzz: 'cases',
};

const scripts = Object.entries(
  (
    JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts,
).filter(([name]) => BENCH_SCRIPT.test(name));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

/** Kills a run's whole process group (sh, tsx, node and whatever they started). */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

afterAll(() => {
  for (const child of running) killGroup(child);
});

/** Runs a package.json script as npm would, with `args` after it; fails the case if it outlives `timeoutMs`. */
function runScript(
  command: string,
  args: string[],
  timeoutMs: number,
  extraEnv: Record<string, string> = {},
): Promise<Run> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && !STRIPPED_ENV.test(key)) env[key] = value;
  env.PATH = [join(repoRoot, 'node_modules/.bin'), dirname(process.execPath), env.PATH ?? ''].join(
    delimiter,
  );
  Object.assign(env, extraEnv);
  // `"$@"` passes the arguments unquoted-safe, as `npm run X -- args` does.
  const child = spawn('sh', ['-c', `${command} "$@"`, 'sh', ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child);
      reject(
        new Error(
          `\`${command} ${args.join(' ')}\` did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The first option whose --help entry names a numeric default. */
function numericOptionFromHelp(help: string): string | undefined {
  // One entry per line that starts with a flag; wrapped lines belong to it.
  const entries = help.split(/\n(?=\s*-)/);
  for (const entry of entries) {
    const option = /^\s*(?:-\w, )?--([a-z][\w-]*)[ =]<?[A-Za-z][\w,.]*>?\s/.exec(entry);
    if (option && /default:?\s*-?\d/.test(entry)) return option[1];
  }
  return undefined;
}

/** Pids of live processes whose environment holds `marker`. */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker))
        pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

describe('bench scripts on the command line', () => {
  it('package.json has the benchmark scripts this test is about', () => {
    expect(scripts.map(([name]) => name)).toEqual(
      expect.arrayContaining(['bench:sim', 'bench:load', 'fuzz']),
    );
  });

  describe.each(scripts)('%s', (name, command) => {
    it(
      '--help prints the options and exits 0; an unknown flag and a bad number exit 2 with one message, no stack',
      async () => {
        const [help, bogus, short] = await Promise.all([
          runScript(command, ['--help'], QUICK_RUN_MS),
          runScript(command, ['--no-such-flag'], QUICK_RUN_MS),
          runScript(command, ['-h'], QUICK_RUN_MS),
        ]);
        expect(help.code, help.stderr).toBe(0);
        expect(help.stdout).toMatch(/--[a-z]/);
        expect(help.stderr).not.toMatch(STACK_FRAME);
        expect(short.code, short.stderr).toBe(0);
        expect(short.stdout).toBe(help.stdout);

        expect(bogus.code, bogus.stdout + bogus.stderr).toBe(2);
        expect(bogus.stderr).toContain('no-such-flag');
        expect(bogus.stderr).not.toMatch(STACK_FRAME);
        expect(bogus.stdout).toBe('');

        const option = NUMERIC_OPTION[name] ?? numericOptionFromHelp(help.stdout);
        if (option === undefined)
          throw new Error(
            `${name}: no numeric option found in its --help; add one to NUMERIC_OPTION in this test`,
          );
        expect(help.stdout).toContain(`--${option}`);
        const bad = await runScript(command, [`--${option}`, 'abc'], QUICK_RUN_MS);
        expect(bad.code, bad.stdout + bad.stderr).toBe(2);
        expect(bad.stderr.split('\n')[0]).toContain(`--${option}`);
        expect(bad.stderr).toContain('abc');
        expect(bad.stderr).not.toMatch(STACK_FRAME);
        expect(bad.stdout).toBe('');
      },
      3 * QUICK_RUN_MS,
    );
  });

  it(
    'loadtest against a --url nobody answers at exits 2 at once, saying so',
    async () => {
      const command = scripts.find(([name]) => name === 'loadtest')?.[1];
      const url = `http://127.0.0.1:${await freePort()}`;
      const run = await runScript(command!, ['--url', url, '--duration', '30'], QUICK_RUN_MS);
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(
        `loadtest: --url ${url} cannot be reached: fetch failed: connect ECONNREFUSED ${url.slice(7)} (ECONNREFUSED)`,
      );
      expect(run.stderr).not.toMatch(STACK_FRAME);
    },
    QUICK_RUN_MS,
  );

  it(
    'bench:load with a client that stops reading exits 0 by itself after its results, leaving no process behind',
    async () => {
      const command = scripts.find(([name]) => name === 'bench:load')?.[1];
      expect(command).toBeDefined();
      const marker = `BENCH_CLI_TEST_RUN=${randomBytes(8).toString('hex')}`;
      const [key, value] = marker.split('=');
      const run = await runScript(
        command!,
        ['--slow', '1', '--clients', '2', '--seconds', '1', '--particles', '500'],
        LOAD_RUN_MS,
        { [key]: value },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(
        '# bench:load  2 clients (1 not reading, all decoding, asking 60/s, in the bench process), 500 particles, 1 s',
      );
      expect(run.stdout).toContain('server RSS MiB per second:');
      // The bench waited for its server: nothing that inherited the marker is left.
      expect(processesWith(marker)).toEqual([]);
    },
    LOAD_RUN_MS + 5000,
  );

  it.each([
    [
      'on a worker thread',
      ['--workers', '1'],
      '3 clients (0 not reading, 1 decoding, asking 60/s, on 1 worker thread)',
    ],
    [
      'as raw counting sockets',
      ['--raw', '1', '--rate', '30'],
      '3 clients (0 not reading, 1 decoding, asking 30/s, in the bench process, the others raw)',
    ],
  ])(
    'bench:load with its clients %s measures every one and exits 0 by itself',
    async (_how, args, header) => {
      const command = scripts.find(([name]) => name === 'bench:load')?.[1];
      const marker = `BENCH_CLI_TEST_RUN=${randomBytes(8).toString('hex')}`;
      const [key, value] = marker.split('=');
      const run = await runScript(
        command!,
        [...args, '--clients', '3', '--decode', '1', '--seconds', '1', '--particles', '500'],
        LOAD_RUN_MS,
        { [key]: value },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`# bench:load  ${header}, 500 particles, 1 s`);
      // All three got frames (the connect line names none that never did),
      // and each got some in the measured second.
      expect(run.stdout).toMatch(/connect: +[\d.]+ s for 3 clients to get their first frame;/);
      expect(run.stdout).toMatch(/reading client frames\/s: +min [1-9]/);
      expect(processesWith(marker)).toEqual([]);
    },
    LOAD_RUN_MS + 5000,
  );
});
