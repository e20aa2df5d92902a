/**
 * Command-line options for every `bench:*` script and `npm run fuzz`:
 * strict parsing (an unknown flag is an error, not ignored), numbers
 * checked against a range, a usage text generated from the same table as
 * the checks (readOptions, optionsHelp), and one way out for a bad value: a
 * one-line message, a pointer to --help, exit 2 (runMain).
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
    // One line: parseArgs adds hints on lines of their own.
    throw new UsageError((error as Error).message.replace(/\s*\n\s*/g, ' '));
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
  return rangedOption(values, name, fallback, min, max, 'an integer');
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

/** A number (not only an integer) in [min, max], or `fallback` when it is absent. */
export function numberOption(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  return rangedOption(values, name, fallback, min, max, 'a number');
}

function rangedOption(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  kind: 'an integer' | 'a number',
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const valid = kind === 'an integer' ? Number.isInteger(n) : Number.isFinite(n);
  if (typeof raw !== 'string' || raw.trim() === '' || !valid || n < min || n > max)
    throw new UsageError(`--${name} must be ${kind} in [${min}, ${max}], got '${String(raw)}'`);
  return n;
}

/**
 * One option of a table-driven command line (`readOptions`, `optionsHelp`):
 * the table is the one place its default and range live, so the help text
 * and the check cannot disagree.
 */
export type OptionSpec =
  | { kind: 'int' | 'number'; arg: string; default: number; min: number; max: number; doc: string }
  | {
      kind: 'intList';
      arg: string;
      default: readonly number[];
      min: number;
      max: number;
      doc: string;
    }
  /** Absent means "let the thing it configures decide" (`defaultDoc` says what that is). */
  | { kind: 'optionalInt'; arg: string; defaultDoc: string; min: number; max: number; doc: string };

type OptionValue<S extends OptionSpec> = S extends { kind: 'intList' }
  ? number[]
  : S extends { kind: 'optionalInt' }
    ? number | undefined
    : number;

/** Parses argv against a table: `help` when `--help`/`-h` was given (nothing else is checked then). */
export function readOptions<T extends Record<string, OptionSpec>>(
  argv: string[],
  specs: T,
): { help: true } | { help: false; values: { [K in keyof T]: OptionValue<T[K]> } } {
  const raw = parseOptions(
    argv,
    Object.fromEntries(Object.keys(specs).map((name) => [name, { type: 'string' as const }])),
  );
  if (raw.help) return { help: true };
  const values: Record<string, number | number[] | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.kind === 'int') values[name] = intOption(raw, name, spec.default, spec.min, spec.max);
    else if (spec.kind === 'number')
      values[name] = numberOption(raw, name, spec.default, spec.min, spec.max);
    else if (spec.kind === 'intList')
      values[name] = intListOption(raw, name, [...spec.default], spec.min, spec.max);
    else
      values[name] =
        raw[name] === undefined ? undefined : intOption(raw, name, 0, spec.min, spec.max);
  }
  return { help: false, values: values as { [K in keyof T]: OptionValue<T[K]> } };
}

/** The options part of a usage text: one line each with its default and range, then -h. */
export function optionsHelp(specs: Record<string, OptionSpec>): string {
  const rows: Array<[flag: string, doc: string]> = Object.entries(specs).map(([name, spec]) => {
    const fallback =
      spec.kind === 'optionalInt'
        ? spec.defaultDoc
        : spec.kind === 'intList'
          ? spec.default.join(',')
          : String(spec.default);
    const range = `${spec.kind === 'intList' ? 'each ' : ''}${spec.min}..${spec.max}`;
    return [`--${name} ${spec.arg}`, `${spec.doc} (default ${fallback}; ${range})`];
  });
  rows.push(['-h, --help', 'this text']);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  const indent = ' '.repeat(2 + width);
  return rows.map(([flag, doc]) => wrap(`  ${flag.padEnd(width)}${doc}`, indent)).join('\n');
}

/** Help lines fit a terminal of this many columns. */
const HELP_COLUMNS = 80;

/** Breaks `line` at spaces to fit HELP_COLUMNS, continuing under `indent`. */
function wrap(line: string, indent: string): string {
  const lines: string[] = [];
  let rest = line;
  while (rest.length > HELP_COLUMNS) {
    const cut = rest.lastIndexOf(' ', HELP_COLUMNS);
    if (cut <= indent.length) break;
    lines.push(rest.slice(0, cut));
    rest = indent + rest.slice(cut + 1);
  }
  lines.push(rest);
  return lines.join('\n');
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
