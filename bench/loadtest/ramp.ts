/**
 * The --ramp schedule, "clients:+50/10s" or "lobbies:+1/10s": what grows,
 * by how much, and how often. `stepLoad` turns it into the load of each
 * step; without a ramp the run is one step.
 */
import { UsageError } from '../cli-options.js';

export interface Ramp {
  what: 'clients' | 'lobbies';
  add: number;
  everyS: number;
}

export interface Load {
  lobbies: number;
  /** Per lobby. */
  clientsPerLobby: number;
}

export function parseRamp(raw: string): Ramp {
  const match = /^(clients|lobbies):\+(\d+)\/(\d+(?:\.\d+)?)(s|m)?$/.exec(raw.trim());
  if (!match)
    throw new UsageError(`--ramp must look like clients:+50/10s or lobbies:+1/10s, got '${raw}'`);
  const [, what, addRaw, everyRaw, unit] = match;
  const add = Number(addRaw);
  const everyS = Number(everyRaw) * (unit === 'm' ? 60 : 1);
  if (add < 1 || add > 100_000)
    throw new UsageError(`--ramp: the increment must be in [1, 100000], got ${add}`);
  if (everyS < 2 || everyS > 3600)
    throw new UsageError(`--ramp: the step must last 2 s to 1 h, got ${everyS} s`);
  return { what: what as Ramp['what'], add, everyS };
}

/** The load of step `index` (0 = the start). */
export function stepLoad(start: Load, ramp: Ramp | undefined, index: number): Load {
  if (!ramp) return start;
  return ramp.what === 'clients'
    ? { ...start, clientsPerLobby: start.clientsPerLobby + ramp.add * index }
    : { ...start, lobbies: start.lobbies + ramp.add * index };
}
