/**
 * Command-line options for the fleet benchmarks (bench:handover,
 * bench:checkpoint): strict parsing (an unknown flag is an error, not
 * ignored), integers checked against a range, and one way out for a bad
 * value: a one-line message, a pointer to --help, exit 2.
 */
import { parseArgs } from 'node:util';

/** A bad command line: the script prints it with a hint and exits 2. */
export class UsageError extends Error {}

export type StringOptions = Record<string, { type: 'string' } | { type: 'boolean' }>;

/** Parses argv strictly; `--help`/`-h` is always accepted. */
export function parseOptions(
  argv: string[],
  options: StringOptions,
): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
    }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** An integer option in [min, max], or `fallback` when it is absent. */
export function intOption(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got '${String(raw)}'`);
  return n;
}

/** A comma-separated list of integers, each in [min, max]. */
export function intListOption(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number[],
  min: number,
  max: number,
): number[] {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const parts = String(raw).split(',');
  return parts.map((part) => {
    const n = Number(part);
    if (part.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new UsageError(
        `--${name} must be a comma-separated list of integers in [${min}, ${max}], got '${String(raw)}'`,
      );
    return n;
  });
}

/** Runs a benchmark's main: exit 0, 1 on a failure (message on stderr), 2 on a usage error. */
export function runMain(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error) => {
      if (error instanceof UsageError) {
        console.error(
          `${name}: ${error.message}\nRun \`npm run ${name} -- --help\` for the options.`,
        );
        process.exit(2);
      }
      console.error(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      process.exit(1);
    },
  );
}
