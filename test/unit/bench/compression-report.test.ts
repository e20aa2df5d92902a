import { describe, expect, it } from 'vitest';
import type { FrameSet } from '../../../bench/compression/corpus.js';
import type { CodecResult, SetResult } from '../../../bench/compression/per-frame.js';
import {
  type FanoutTarget,
  fanoutTable,
  lobbiesAt,
  perFrameRow,
  perFrameTable,
  socketRow,
  socketTable,
  VERDICT_RULE,
  verdict,
  verdictText,
} from '../../../bench/compression/report.js';
import type { SocketResult } from '../../../bench/compression/socket-bench.js';

const TARGET: FanoutTarget = { clients: 1000, clientsPerLobby: 100, rateHz: 60 };

const set = (bytesPerParticle: number, compressP50Ms = 0, decompressP50Ms = 0): SetResult => ({
  bytesPerParticle,
  compressP50Ms,
  decompressP50Ms,
});
const codec = (name: string, delta60: SetResult, other = set(4)): CodecResult => ({
  codec: name,
  sets: { key: other, delta60, delta30: other, delta15: other } satisfies Record<
    FrameSet,
    SetResult
  >,
});
const socket = (
  setting: string,
  wireBytesPerFrame: number,
  serverCpuP50Ms: number,
  clientCpuMeanMs: number,
  clients = 100,
): SocketResult => ({
  setting,
  clients,
  wireBytesPerFrame,
  serverCpuP50Ms,
  serverCpuMeanMs: serverCpuP50Ms,
  clientCpuMeanMs,
});

describe('bench:compression fan-out model', () => {
  const none = codec('none', set(1));

  it('charges a per-frame codec once per lobby frame: p50 × lobbies × rate, over the clients of a lobby per client', () => {
    expect(lobbiesAt(TARGET)).toBe(10);
    expect(lobbiesAt({ ...TARGET, clients: 1001 })).toBe(11);
    const row = perFrameRow(codec('zstd-1', set(0.8, 0.5, 0.04)), none, 10_000, TARGET);
    expect(row.saving).toBeCloseTo(0.2);
    expect(row.serverMsPerClientFrame).toBeCloseTo(0.005);
    expect(row.serverCores).toBeCloseTo(0.3); // 0.5 ms × 10 lobbies × 60 Hz
    expect(row.egressMBs).toBeCloseTo(480); // 0.8 B × 10k × 1000 × 60
    expect(row.clientMsPerFrame).toBeCloseTo(0.04);
    expect(perFrameRow(none, none, 10_000, TARGET)).toMatchObject({
      saving: 0,
      serverCores: 0,
      verdict: 'baseline',
    });
  });

  it('charges permessage-deflate per client, and only what it adds over sending without it', () => {
    const off = socket('pmd off', 10_000, 0.02, 0.03);
    const row = socketRow(socket('pmd deflate-1', 9000, 0.32, 0.13), off, TARGET);
    expect(row.option).toBe('pmd deflate-1 (100 clients)');
    expect(row.saving).toBeCloseTo(0.1);
    expect(row.serverMsPerClientFrame).toBeCloseTo(0.3);
    expect(row.serverCores).toBeCloseTo(18); // 0.3 ms × 1000 clients × 60 Hz
    expect(row.egressMBs).toBeCloseTo(540);
    expect(row.clientMsPerFrame).toBeCloseTo(0.1);
    // Noise can put a setting below the baseline: it is never charged less than nothing.
    expect(socketRow(socket('x', 9000, 0.01, 0.01), off, TARGET).serverCores).toBe(0);
    expect(socketRow(off, off, TARGET).verdict).toBe('baseline');
  });
});

describe('bench:compression verdict', () => {
  const ok = {
    saving: 0.2,
    serverMsPerClientFrame: 0,
    serverCores: 0.05,
    egressMBs: 1,
    clientMsPerFrame: 0.1,
  };

  it('pays only within every bound of the rule, and names each bound it breaks', () => {
    expect(verdict(ok)).toBe('pays');
    expect(verdict({ ...ok, saving: VERDICT_RULE.MIN_SAVING })).toBe('pays');
    expect(verdict({ ...ok, saving: 0.05 })).toBe('no: saves 5.0% (< 10.0%)');
    expect(verdict({ ...ok, serverCores: 2 })).toBe('no: 2.00 cores (> 0.1)');
    expect(verdict({ ...ok, saving: -0.01, serverCores: 2, clientMsPerFrame: 3 })).toBe(
      'no: saves -1.0% (< 10.0%); 2.00 cores (> 0.1); client 3.00 ms/frame (> 1)',
    );
    expect(verdict(ok, true)).toBe('baseline');
  });

  it('writes the verdict as prose: the rule, what pays, the best of each kind and its cost', () => {
    const none = codec('none', set(1));
    const rows = [
      perFrameRow(none, none, 100, TARGET),
      perFrameRow(codec('zstd-1', set(0.7, 0.1)), none, 100, TARGET),
      perFrameRow(codec('deflate-1', set(0.9, 0.2)), none, 100, TARGET),
      socketRow(socket('pmd off', 100, 0.02, 0), socket('pmd off', 100, 0.02, 0), TARGET),
      socketRow(socket('pmd deflate-1', 90, 0.3, 0.2), socket('pmd off', 100, 0.02, 0), TARGET),
    ];
    const text = verdictText(rows, TARGET);
    expect(text).toContain(
      'at most 0.1 cores of server CPU at 1000 clients × 60 Hz (100 per lobby)',
    );
    expect(text).toContain('Pays: per-frame zstd-1.');
    expect(text).toContain(
      'Per-frame (shared per lobby frame): at most 30.0% saved (per-frame zstd-1: 0.06 cores',
    );
    expect(text).toContain(
      'permessage-deflate (per client): at most 10.0% saved (pmd deflate-1 (100 clients): 16.80 cores',
    );
    expect(verdictText(rows.slice(3), TARGET)).toContain(
      'Pays: nothing measured here; leave compression off.',
    );
  });
});

describe('bench:compression tables', () => {
  it('gives each codec its bytes with the ratio against the first row, and its times', () => {
    const table = perFrameTable([
      codec('none', set(1.2)),
      codec('deflate-1', set(0.9, 0.15, 0.04), set(3)),
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\| codec \| keyframe B\/particle \(ratio\) \| delta 60 Hz/);
    expect(lines[3]).toBe(
      '| deflate-1 | 3.000 (0.75) | 0.900 (0.75) | 3.000 (0.75) | 3.000 (0.75) | 0.000 / 0.150 | 0.000 / 0.040 |',
    );
  });

  it('compares each socket setting with pmd off at the same client count', () => {
    const table = socketTable(
      [
        socket('pmd off', 1000, 0.1, 0.1, 1),
        socket('pmd on', 900, 0.5, 0.3, 1),
        socket('pmd off', 2000, 0.05, 0.1, 10),
        socket('pmd on', 1000, 0.4, 0.3, 10),
      ],
      1000,
    );
    const lines = table.split('\n');
    expect(lines[3]).toBe('| pmd on | 1 | 0.900 (0.90) | 0.500 (0.500) | 0.300 |');
    expect(lines[5]).toBe('| pmd on | 10 | 1.000 (0.50) | 0.400 (0.400) | 0.300 |');
  });

  it('multiplies every row out to the target in one table', () => {
    const none = codec('none', set(1));
    const table = fanoutTable([perFrameRow(none, none, 10, TARGET)], TARGET);
    expect(table.split('\n')[0]).toContain('server cores at 1000 clients × 60 Hz');
    expect(table.split('\n')[2]).toBe(
      '| per-frame none | 0.0% | 0.0000 | 0.000 | 1 | 0.000 | baseline |',
    );
  });
});
