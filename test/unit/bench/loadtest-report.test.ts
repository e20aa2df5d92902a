import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../bench/loadtest/report-html.js';
import type { LoadtestResult, StepRow } from '../../../bench/loadtest/result.js';
import { parseUntil, type StepMeasures, UNTIL_METRICS } from '../../../bench/loadtest/until.js';

const HOSTILE = '</script><script>alert("x")</script>\u2028é𝄞';

const measures = (fps: number): StepMeasures =>
  Object.fromEntries(
    Object.keys(UNTIL_METRICS).map((k) => [k, k === 'client_fps' ? fps : 1]),
  ) as StepMeasures;

const step = (index: number, clients: number, fps: number, broken: string[]): StepRow => ({
  index,
  load: { lobbies: 1, clientsPerLobby: clients },
  clients,
  fromS: index * 10 + 3,
  toS: index * 10 + 10,
  measures: measures(fps),
  bytesPerClientPerS: 60_000,
  missedPerS: 0,
  reconnects: 0,
  live: clients,
  broken,
});

const result = (): LoadtestResult => ({
  tool: 'swarmhost loadtest',
  startedAt: '2026-11-30T00:00:00.000Z',
  finishedAt: '2026-11-30T00:01:00.000Z',
  target: { url: `http://127.0.0.1:1/${HOSTILE}`, metrics: [], local: false },
  settings: {
    lobbies: 1,
    clients: 50,
    particles: 10_000,
    sendRate: null,
    decode: null,
    ramp: { what: 'clients', add: 50, everyS: 10 },
    until: parseUntil('client_fps<55'),
    durationS: 600,
    settleS: 3,
    workers: 2,
  },
  machine: { cores: 2, node: 'v20', platform: 'linux' },
  stoppedBy: 'limit',
  error: HOSTILE,
  ceiling: {
    reached: true,
    held: { lobbies: 1, clients: 100, clientsPerLobby: 100 },
    broke: { lobbies: 1, clients: 150, limits: ['client_fps<55'] },
  },
  halfCeiling: step(0, 50, 60, []),
  steps: [step(0, 50, 60, []), step(1, 100, 58, []), step(2, 150, 40, ['client_fps<55'])],
  seconds: [],
});

describe('report.html', () => {
  const html = renderReport(result());

  it('is self-contained: uPlot inlined, nothing fetched', () => {
    expect(html).toContain('uPlot');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
  });

  it('names the ceiling and the limit that ended it', () => {
    expect(html).toContain('Ceiling: <b>100 clients in 1 lobby</b>');
    expect(html).toContain('broke <b>client_fps&#60;55</b>');
    expect(html).toContain('At half that load (50 clients)');
  });

  it('cannot be broken out of by text from the run (URL, error), Unicode included', () => {
    // Our own three script elements, and no fourth from the hostile text.
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html).not.toContain('alert("x")</script>');
    const json = /<script type="application\/json" id="result">(.*?)<\/script>/s.exec(html)![1];
    expect((JSON.parse(json) as LoadtestResult).error).toBe(HOSTILE);
  });
});
