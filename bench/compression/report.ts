/**
 * bench:compression's report, pure: the markdown tables of the per-frame
 * and permessage-deflate measurements, the fan-out cost model that
 * multiplies them out to a target (F clients, C per lobby, R Hz), and the
 * verdict rule that decides what pays.
 */
import type { FrameSet } from './corpus.js';
import type { CodecResult } from './per-frame.js';
import type { SocketResult } from './socket-bench.js';

/**
 * What "pays" means. An option must save at least MIN_SAVING of the steady
 * stream's bytes (60 Hz deltas), for at most MAX_SERVER_CORES of one core
 * at the fan-out target (the main thread that fans out is one of two cores
 * here, and the other runs the lobbies), and at most MAX_CLIENT_MS of a
 * client's 16.7 ms frame to undo it.
 */
export const VERDICT_RULE = Object.freeze({
  MIN_SAVING: 0.1,
  MAX_SERVER_CORES: 0.1,
  MAX_CLIENT_MS: 1,
});

export interface FanoutTarget {
  clients: number;
  clientsPerLobby: number;
  rateHz: number;
}

/** One option, multiplied out to the target. */
export interface FanoutRow {
  option: string;
  /** Share of 60 Hz delta bytes saved against no compression, 0..1 (negative: it grew). */
  saving: number;
  /** Server CPU for one frame to one client, ms. */
  serverMsPerClientFrame: number;
  /** Cores of server CPU at the target. */
  serverCores: number;
  /** Frame egress at the target, MB/s (1e6 bytes). */
  egressMBs: number;
  /** Client CPU to undo one frame, ms. */
  clientMsPerFrame: number;
  verdict: string;
}

/** Lobbies at the target: every lobby full. */
export function lobbiesAt(target: FanoutTarget): number {
  return Math.ceil(target.clients / target.clientsPerLobby);
}

/**
 * Per-frame compression runs once per (base, tick) and is shared by the
 * lobby's clients in step: its cost is per lobby frame, not per client.
 */
export function perFrameRow(
  result: CodecResult,
  none: CodecResult,
  particles: number,
  target: FanoutTarget,
): FanoutRow {
  const set = result.sets.delta60;
  const lobbyFrameMs = result.codec === none.codec ? 0 : set.compressP50Ms;
  const row = {
    option: `per-frame ${result.codec}`,
    saving: 1 - set.bytesPerParticle / none.sets.delta60.bytesPerParticle,
    serverMsPerClientFrame: lobbyFrameMs / target.clientsPerLobby,
    serverCores: (lobbyFrameMs * lobbiesAt(target) * target.rateHz) / 1000,
    egressMBs: (set.bytesPerParticle * particles * target.clients * target.rateHz) / 1e6,
    clientMsPerFrame: result.codec === none.codec ? 0 : set.decompressP50Ms,
  };
  return { ...row, verdict: verdict(row, result.codec === none.codec) };
}

/**
 * permessage-deflate compresses each client's stream on its own: its cost
 * is per client. Charged is what it adds over sending the same frames
 * without it (`off`, measured with as many clients).
 */
export function socketRow(
  result: SocketResult,
  off: SocketResult,
  target: FanoutTarget,
): FanoutRow {
  const baseline = result.setting === off.setting;
  const perClient = baseline ? 0 : Math.max(0, result.serverCpuP50Ms - off.serverCpuP50Ms);
  const row = {
    option: `${result.setting} (${result.clients} clients)`,
    saving: 1 - result.wireBytesPerFrame / off.wireBytesPerFrame,
    serverMsPerClientFrame: perClient,
    serverCores: (perClient * target.clients * target.rateHz) / 1000,
    egressMBs: (result.wireBytesPerFrame * target.clients * target.rateHz) / 1e6,
    clientMsPerFrame: baseline ? 0 : Math.max(0, result.clientCpuMeanMs - off.clientCpuMeanMs),
  };
  return { ...row, verdict: verdict(row, baseline) };
}

/** The rule of VERDICT_RULE, with the first reason an option fails it. */
export function verdict(row: Omit<FanoutRow, 'verdict' | 'option'>, baseline = false): string {
  if (baseline) return 'baseline';
  const reasons: string[] = [];
  if (row.saving < VERDICT_RULE.MIN_SAVING)
    reasons.push(`saves ${pct(row.saving)} (< ${pct(VERDICT_RULE.MIN_SAVING)})`);
  if (row.serverCores > VERDICT_RULE.MAX_SERVER_CORES)
    reasons.push(`${fixed(row.serverCores, 2)} cores (> ${VERDICT_RULE.MAX_SERVER_CORES})`);
  if (row.clientMsPerFrame > VERDICT_RULE.MAX_CLIENT_MS)
    reasons.push(
      `client ${fixed(row.clientMsPerFrame, 2)} ms/frame (> ${VERDICT_RULE.MAX_CLIENT_MS})`,
    );
  return reasons.length === 0 ? 'pays' : `no: ${reasons.join('; ')}`;
}

const SET_LABEL: Record<FrameSet, string> = {
  key: 'keyframe',
  delta60: 'delta 60 Hz',
  delta30: 'delta 30 Hz',
  delta15: 'delta 15 Hz',
};

/** Bytes per particle and per-payload times, one row per codec; ratios against `none` (the first). */
export function perFrameTable(results: CodecResult[]): string {
  const none = results[0];
  const sets: FrameSet[] = ['key', 'delta60', 'delta30', 'delta15'];
  const lines = [
    `| codec | ${sets.map((s) => `${SET_LABEL[s]} B/particle (ratio)`).join(' | ')} | compress p50 ms (key / delta 60 Hz) | decompress p50 ms (key / delta 60 Hz) |`,
    `|---|${sets.map(() => '---:').join('|')}|---:|---:|`,
  ];
  for (const r of results) {
    const bytes = sets.map(
      (s) =>
        `${fixed(r.sets[s].bytesPerParticle, 3)} (${fixed(r.sets[s].bytesPerParticle / none.sets[s].bytesPerParticle, 2)})`,
    );
    lines.push(
      `| ${r.codec} | ${bytes.join(' | ')} | ${fixed(r.sets.key.compressP50Ms, 3)} / ${fixed(r.sets.delta60.compressP50Ms, 3)} | ${fixed(r.sets.key.decompressP50Ms, 3)} / ${fixed(r.sets.delta60.decompressP50Ms, 3)} |`,
    );
  }
  return lines.join('\n');
}

/** Wire bytes and CPU per 60 Hz delta per client, one row per setting and client count. */
export function socketTable(results: SocketResult[], particles: number): string {
  const lines = [
    '| setting | clients | wire B/particle (ratio) | server CPU ms/frame/client p50 (mean) | client CPU ms/frame (mean) |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const off = results.find((o) => o.clients === r.clients && o.setting === results[0].setting);
    const ratio = off ? fixed(r.wireBytesPerFrame / off.wireBytesPerFrame, 2) : '?';
    lines.push(
      `| ${r.setting} | ${r.clients} | ${fixed(r.wireBytesPerFrame / particles, 3)} (${ratio}) | ${fixed(r.serverCpuP50Ms, 3)} (${fixed(r.serverCpuMeanMs, 3)}) | ${fixed(r.clientCpuMeanMs, 3)} |`,
    );
  }
  return lines.join('\n');
}

/** Every option multiplied out to the target, with its verdict. */
export function fanoutTable(rows: FanoutRow[], target: FanoutTarget): string {
  const lines = [
    `| option | 60 Hz delta bytes saved | server ms per client-frame | server cores at ${target.clients} clients × ${target.rateHz} Hz | egress MB/s | client ms/frame | verdict |`,
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.option} | ${pct(r.saving)} | ${fixed(r.serverMsPerClientFrame, 4)} | ${fixed(r.serverCores, 3)} | ${fixed(r.egressMBs, 0)} | ${fixed(r.clientMsPerFrame, 3)} | ${r.verdict} |`,
    );
  return lines.join('\n');
}

/**
 * The verdict as prose for docs/BENCHMARKS.md: the rule, what pays, and
 * for each kind (per-frame, permessage-deflate) its best saving and what
 * that costs at the target. Baseline rows are left out.
 */
export function verdictText(rows: FanoutRow[], target: FanoutTarget): string {
  const options = rows.filter((r) => r.verdict !== 'baseline');
  const pays = options.filter((r) => r.verdict === 'pays');
  const lines = [
    `Rule: an option pays if it saves at least ${pct(VERDICT_RULE.MIN_SAVING)} of 60 Hz delta bytes, for at most ${VERDICT_RULE.MAX_SERVER_CORES} cores of server CPU at ${target.clients} clients × ${target.rateHz} Hz (${target.clientsPerLobby} per lobby) and at most ${VERDICT_RULE.MAX_CLIENT_MS} ms per frame on the client.`,
    pays.length === 0
      ? 'Pays: nothing measured here; leave compression off.'
      : `Pays: ${pays.map((r) => r.option).join(', ')}.`,
  ];
  for (const [label, prefix] of [
    ['Per-frame (shared per lobby frame)', 'per-frame '],
    ['permessage-deflate (per client)', 'pmd '],
  ] as const) {
    const kind = options.filter((r) => r.option.startsWith(prefix));
    if (kind.length === 0) continue;
    const best = kind.reduce((a, b) => (b.saving > a.saving ? b : a));
    const cheapest = kind.reduce((a, b) => (b.serverCores < a.serverCores ? b : a));
    lines.push(
      `${label}: at most ${pct(best.saving)} saved (${best.option}: ${fixed(best.serverCores, 2)} cores, ${fixed(best.egressMBs, 0)} MB/s egress); cheapest ${cheapest.option}: ${fixed(cheapest.serverCores, 3)} cores for ${pct(cheapest.saving)}.`,
    );
  }
  return lines.join('\n');
}

const pct = (share: number): string => `${(share * 100).toFixed(1)}%`;
const fixed = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toFixed(digits) : '?';
