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

/**
 * Every how many steps each particle steers in a lobby of these settings,
 * by its particle count. The params are resolved once, here, so a caller
 * asking for many lobbies of the same settings (/status) does not resolve
 * them again for each.
 */
export function lobbySteerIntervals(
  settings: Pick<LobbySettings, 'steerBudget'>,
): (particles: number) => number {
  const params = resolveBoidParams(worldParams(settings));
  return (particles) => steerIntervalFor(params, particles);
}
