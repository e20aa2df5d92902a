/**
 * The boid params a lobby's settings choose for its world (today only the
 * steering budget, SWARMHOST_STEER_BUDGET; the rest are the world's
 * defaults), and what they mean for a world of a given size: every how
 * many steps each particle steers, for /status.
 */
import type { LobbySettings } from './lobby-messages.js';
import { type BoidParams, resolveBoidParams, steerIntervalFor } from './world/boids.js';

export function worldParams(settings: Pick<LobbySettings, 'steerBudget'>): Partial<BoidParams> {
  return settings.steerBudget === undefined ? {} : { steerBudget: settings.steerBudget };
}

/** Every how many steps each of `particles` particles steers in a lobby of these settings. */
export function lobbySteerInterval(
  settings: Pick<LobbySettings, 'steerBudget'>,
  particles: number,
): number {
  return steerIntervalFor(resolveBoidParams(worldParams(settings)), particles);
}
