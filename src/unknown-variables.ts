/**
 * Finds SWARMHOST_* environment variables that are no setting (a typo like
 * SWARMHOST_MAX_LOBBY would otherwise be ignored without a word) and names
 * the setting each was most likely meant to be. Only names are looked at,
 * never values: a misspelt SWARMHOST_ADMIN_TOKN still holds a secret.
 */
import { SETTINGS } from './config.js';

/** The prefix of our variables, matched in any case (`swarmhost_tick_rate` is a typo too). */
const PREFIX = /^swarmhost_/i;

/**
 * Variables under our prefix that the server does not read on purpose: the
 * fuzz tools' own options (test/fuzz, bench/fuzz.ts), which reach server
 * processes that inherit the environment.
 */
const NOT_SETTINGS = /^SWARMHOST_FUZZ_/;

/** A suggestion must be this close: at most this share of the name's length in edits (and at least 2). */
const MAX_EDIT_SHARE = 1 / 3;

export interface UnknownVariable {
  variable: string;
  /** The setting's variable it most likely meant, if one is close enough. */
  didYouMean?: string;
}

const KNOWN: readonly string[] = Object.values(SETTINGS).map((setting) => setting.env);

/** SWARMHOST_* variables in `env` that no setting reads, in name order. */
export function unknownVariables(env: Record<string, string | undefined>): UnknownVariable[] {
  return Object.keys(env)
    .filter(
      (name) =>
        env[name] !== undefined &&
        PREFIX.test(name) &&
        !KNOWN.includes(name) &&
        !NOT_SETTINGS.test(name),
    )
    .sort()
    .map((variable) => {
      const didYouMean = closestSetting(variable);
      return didYouMean === undefined ? { variable } : { variable, didYouMean };
    });
}

/** The one warn line for them: names only, with suggestions. */
export function describeUnknown(unknown: readonly UnknownVariable[]): string {
  const names = unknown.map(({ variable, didYouMean }) =>
    didYouMean === undefined ? variable : `${variable} (did you mean ${didYouMean}?)`,
  );
  return `unknown environment variable${unknown.length === 1 ? '' : 's'} ignored: ${names.join(', ')} (settings: docs/CONFIG.md or --help)`;
}

/** The known SWARMHOST_* variable nearest to `name`, if it is near enough. */
export function closestSetting(name: string): string | undefined {
  const wanted = name.toUpperCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const known of KNOWN) {
    if (!PREFIX.test(known)) continue;
    const distance = editDistance(wanted, known);
    if (distance < bestDistance) {
      best = known;
      bestDistance = distance;
    }
  }
  // Measured on the part after the prefix, which every candidate shares.
  const suffix = wanted.length - 'SWARMHOST_'.length;
  return bestDistance <= Math.max(2, Math.floor(suffix * MAX_EDIT_SHARE)) ? best : undefined;
}

/** Levenshtein distance (insertions, deletions, substitutions), two rows. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitute);
    }
    previous = current;
  }
  return previous[b.length];
}
