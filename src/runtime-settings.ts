/**
 * The settings that may change while the server runs (those marked
 * `tunable` in the config table), held in a watch so readers always see the
 * latest value. `patch` validates a change with the same rules as start-up
 * and applies all of it or none of it.
 */
import { Watch } from '../lobbies/index.js';
import { type Config, ConfigError, SETTINGS, type SettingName, parseSetting } from './config.js';

export type TunableName = {
  [K in SettingName]: (typeof SETTINGS)[K] extends { tunable: true } ? K : never;
}[SettingName];

export type Tunables = { readonly [K in TunableName]: Config[K] };

export const TUNABLE_NAMES = (Object.keys(SETTINGS) as SettingName[]).filter(
  (name) => (SETTINGS[name] as { tunable?: boolean }).tunable === true,
) as TunableName[];

export type PatchResult = { ok: true; value: Tunables } | { ok: false; reason: string };

export class RuntimeSettings {
  readonly watch: Watch<Tunables>;
  #config: Config;

  constructor(config: Config) {
    this.#config = config;
    const initial = Object.fromEntries(
      TUNABLE_NAMES.map((name) => [name, config[name]]),
    ) as Tunables;
    this.watch = new Watch<Tunables>(Object.freeze(initial));
  }

  get(): Tunables {
    return this.watch.get();
  }

  /** The effective configuration: start-up values with the tunables' current values. */
  effective(): Config {
    return { ...this.#config, ...this.watch.get() };
  }

  /** Applies `{name: value}` for tunable names (values as JSON numbers or strings). */
  patch(body: unknown): PatchResult {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { ok: false, reason: 'body must be a JSON object of setting names to values' };
    }
    const next: Record<string, unknown> = { ...this.watch.get() };
    for (const [name, raw] of Object.entries(body)) {
      if (!(TUNABLE_NAMES as string[]).includes(name)) {
        return {
          ok: false,
          reason: `'${name}' is not a runtime-tunable setting (tunable: ${TUNABLE_NAMES.join(', ')})`,
        };
      }
      if (typeof raw !== 'number' && typeof raw !== 'string') {
        return { ok: false, reason: `${name} must be a number` };
      }
      try {
        next[name] = parseSetting(name as SettingName, String(raw));
      } catch (error) {
        if (error instanceof ConfigError) return { ok: false, reason: error.message };
        throw error;
      }
    }
    const merged = { ...this.#config, ...next } as Config;
    if (merged.defaultParticles > merged.maxParticles) {
      return {
        ok: false,
        reason: `defaultParticles must not exceed maxParticles (${merged.maxParticles})`,
      };
    }
    if (merged.defaultParticles > merged.particleBudget) {
      return {
        ok: false,
        reason: `defaultParticles must not exceed particleBudget (${merged.particleBudget}): no lobby joined by URL would fit`,
      };
    }
    const value = Object.freeze(next) as Tunables;
    this.watch.set(value);
    return { ok: true, value };
  }
}
