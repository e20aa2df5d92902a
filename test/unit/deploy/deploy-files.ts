/**
 * What the deploy tests read: the repository's paths, YAML as the tools that
 * consume it read it (Compose's `<<` merge keys, Kubernetes' multi-document
 * files), Compose durations, Kubernetes quantities, and a container's
 * environment. Parsing only: each test file says what must hold.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');

export const readText = (path: string): string => readFileSync(path, 'utf8');

/** One YAML document, `<<` merge keys applied (Compose's anchors rely on them). */
export function readYaml<T = unknown>(path: string): T {
  return parse(readText(path), { merge: true }) as T;
}

/** Every document of a `---`-separated file; a syntax error throws, naming the file. */
export function readYamlDocuments<T = unknown>(path: string): T[] {
  return parseAllDocuments(readText(path)).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0].message}`);
    return doc.toJS() as T;
  });
}

export const fileExists = (path: string): boolean => existsSync(path);

/** A Compose duration (`20s`, `1m30s`, `1500ms`, `1h`) in milliseconds. */
export function composeDurationMs(value: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value)
    throw new Error(`not a Compose duration: ${value}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0);
}

/** A Kubernetes CPU quantity (`2`, `500m`) in cores. */
export function cpuCores(value: string | number): number {
  const text = String(value);
  return text.endsWith('m') ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

/** A Kubernetes memory quantity (`1Gi`, `512Mi`, `384M`, `1000`) in bytes. */
export function memoryBytes(value: string | number): number {
  const match = /^(\d+(?:\.\d+)?)([KMGT]i?)?$/.exec(String(value));
  if (!match) throw new Error(`not a memory quantity: ${value}`);
  const [, n, unit = ''] = match;
  const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  const decimal: Record<string, number> = { K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(n) * (binary[unit] ?? decimal[unit] ?? 1);
}

/** The setting of a container or service environment, as a string, or undefined. */
export function envValue(
  env: Record<string, unknown> | { name: string; value?: string }[] | undefined,
  name: string,
): string | undefined {
  if (env === undefined) return undefined;
  if (Array.isArray(env)) return env.find((e) => e.name === name)?.value;
  const value = env[name];
  return value === undefined || value === null ? undefined : String(value);
}

/** A setting that must be there, as a number. */
export function envNumber(
  env: Parameters<typeof envValue>[0],
  name: string,
  where: string,
): number {
  const value = envValue(env, name);
  if (value === undefined) throw new Error(`${where}: ${name} is not set`);
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${where}: ${name}=${value} is not a number`);
  return n;
}
