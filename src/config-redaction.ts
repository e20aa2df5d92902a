/**
 * What of the configuration may be shown: everything but the secrets
 * (settings marked `secret` in the table), which show as REDACTED when set
 * and as '' when not. GET /config and the start-up log line both go
 * through here, so a new secret is hidden in both at once.
 */
import { type Config, SETTINGS, type SettingName } from './config.js';

/** What is shown in place of a secret that is set. */
export const REDACTED = '[redacted]';

/** The settings never shown. */
export const SECRET_NAMES: readonly SettingName[] = (Object.keys(SETTINGS) as SettingName[]).filter(
  (name) => (SETTINGS[name] as { secret?: boolean }).secret === true,
);

/** `config` with every secret that is set replaced by REDACTED. */
export function redactConfig(config: Config): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...config };
  for (const name of SECRET_NAMES) shown[name] = config[name] === '' ? '' : REDACTED;
  return shown;
}
