/**
 * The shape of result.json: the run's settings, a row per second, a row per
 * step with its verdict, and the ceiling. report-html.ts draws it; anyone
 * may read it (numbers are in the units their names say; NaN is null).
 */
import type { Load, Ramp } from './ramp.js';
import type { StepMeasures, UntilCondition } from './until.js';

export interface SecondRow {
  t: number;
  step: number;
  lobbies: number;
  clients: number;
  live: number;
  fps: number;
  fpsP5: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  bytesPerClientPerS: number;
  tickP50Ms: number;
  tickP99Ms: number;
  tickRate: number;
  serverCpu: number;
  serverRssMiB: number;
  skippedPerS: number;
  loopLagP99Ms: number;
  botCpu: number;
}

export interface StepRow {
  index: number;
  load: Load;
  /** Bots in the run during this step. */
  clients: number;
  /** The measured window, seconds since the start. */
  fromS: number;
  toS: number;
  measures: StepMeasures;
  bytesPerClientPerS: number;
  /** Ticks no frame carried, per client per second, as the bots saw it. */
  missedPerS: number;
  reconnects: number;
  live: number;
  /** The --until limits this step broke (empty: it held). */
  broken: string[];
}

export interface Ceiling {
  /** False: the run ended (duration) before any limit broke. */
  reached: boolean;
  /** The last step that held every limit (undefined: even the first broke one). */
  held: { lobbies: number; clients: number; clientsPerLobby: number } | undefined;
  /** The first step that broke a limit, and which. */
  broke: { lobbies: number; clients: number; limits: string[] } | undefined;
}

export interface LoadtestResult {
  tool: 'swarmhost loadtest';
  startedAt: string;
  finishedAt: string;
  target: { url: string; metrics: string[]; local: boolean };
  settings: {
    lobbies: number;
    clients: number;
    particles: number | null;
    sendRate: number | null;
    decode: number | null;
    ramp: Ramp | null;
    until: UntilCondition[];
    durationS: number;
    settleS: number;
    workers: number;
  };
  machine: { cores: number; node: string; platform: string };
  stoppedBy: 'limit' | 'duration' | 'error' | 'interrupted';
  error?: string;
  ceiling: Ceiling;
  /** The held step nearest half the ceiling's clients, for latency "at half load". */
  halfCeiling: StepRow | undefined;
  steps: StepRow[];
  seconds: SecondRow[];
}
