/**
 * report.html: one self-contained file (uPlot and its CSS inlined, the
 * result embedded as JSON, no network) with a summary, the steps as a
 * table, and charts against load (a point per step) and over time (a point
 * per second). The ceiling is marked on every chart: a green line at the
 * last load that held, a red one at the first that broke.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { LoadtestResult, StepRow } from './result.js';

const require = createRequire(import.meta.url);
const uplotJs = () => readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
const uplotCss = () => readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON that cannot end the script element it sits in. */
const scriptJson = (value: unknown): string =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

const fmt = (value: number | undefined, digits = 1): string =>
  value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '–';

export function renderReport(result: LoadtestResult): string {
  const s = result.settings;
  const byLobbies = s.ramp?.what === 'lobbies';
  const title = `swarmhost loadtest ${result.startedAt}`;
  const ceiling = result.ceiling;
  const held = ceiling.held
    ? `${ceiling.held.clients} clients in ${ceiling.held.lobbies} lobb${ceiling.held.lobbies === 1 ? 'y' : 'ies'}`
    : 'none (the first step broke a limit)';
  const verdict = ceiling.reached
    ? `Ceiling: <b>${escapeHtml(held)}</b>; the next step (${ceiling.broke?.clients} clients in ${ceiling.broke?.lobbies} lobb${ceiling.broke?.lobbies === 1 ? 'y' : 'ies'}) broke <b>${escapeHtml(ceiling.broke?.limits.join(', ') ?? '')}</b>.`
    : `No limit broke before the run ended (${escapeHtml(result.stoppedBy)}${result.error ? `: ${escapeHtml(result.error)}` : ''}); the highest load held: <b>${escapeHtml(held)}</b>.`;
  const half = result.halfCeiling;
  const settings = [
    ['target', `${result.target.url}${result.target.local ? ' (started by the run)' : ''}`],
    ['lobbies × clients at start', `${s.lobbies} × ${s.clients}`],
    ['particles per lobby', s.particles === null ? 'server default' : String(s.particles)],
    ['send rate', s.sendRate === null ? 'server setting' : `${s.sendRate}/s`],
    ['decoding bots', s.decode === null ? 'all' : String(s.decode)],
    ['ramp', s.ramp ? `${s.ramp.what} +${s.ramp.add} every ${s.ramp.everyS} s` : 'none'],
    ['limits', s.until.map((c) => c.text).join(', ')],
    ['settle / duration', `${s.settleS} s / ${s.durationS} s`],
    [
      'machine',
      `${result.machine.cores} cores, Node ${result.machine.node}, ${s.workers} bot threads`,
    ],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${uplotCss()}
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}tr.broke td{background:#fde2e2}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{border:1px solid #ddd;padding:6px}
.verdict{font-size:15px;padding:8px;background:#f6f8fa;border-left:4px solid #2a7}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="verdict">${verdict}${half ? ` At half that load (${half.clients} clients) end-to-end latency was p50 ${fmt(half.measures.latency_p50)} ms, p99 ${fmt(half.measures.latency_p99)} ms.` : ''}</p>
<table>${settings.map(([k, v]) => `<tr><th class="l">${escapeHtml(k)}</th><td class="l">${escapeHtml(v)}</td></tr>`).join('')}</table>
<h2>Steps (measured after ${s.settleS} s of settling)</h2>
${stepTable(result.steps)}
<h2>Against load (a point per step; x: ${byLobbies ? 'lobbies' : 'clients'})</h2>
<div class="charts" id="by-load"></div>
<h2>Over time (a point per second)</h2>
<div class="charts" id="by-time"></div>
<script>${uplotJs()}</script>
<script type="application/json" id="result">${scriptJson(result)}</script>
<script>${chartScript(byLobbies)}</script>
</body></html>
`;
}

function stepTable(steps: StepRow[]): string {
  const head = [
    'step',
    'lobbies',
    'clients',
    'live',
    'fps',
    'fps p5',
    'latency p50 ms',
    'latency p99 ms',
    'tick p99 ms',
    'tick Hz',
    'KiB/s per client',
    'skipped /s per client',
    'server CPU %',
    'server RSS MiB',
    'loop lag p99 ms',
    'bots CPU %',
    'verdict',
  ];
  const rows = steps.map((st) => {
    const m = st.measures;
    const cells = [
      st.index,
      st.load.lobbies,
      st.clients,
      st.live,
      fmt(m.client_fps),
      fmt(m.client_fps_p5),
      fmt(m.latency_p50),
      fmt(m.latency_p99),
      fmt(m.tick_p99, 2),
      fmt(m.tick_rate),
      fmt(st.bytesPerClientPerS / 1024),
      fmt(m.skipped, 2),
      fmt(m.server_cpu, 0),
      fmt(m.server_rss, 0),
      fmt(m.loop_lag_p99),
      fmt(m.bot_cpu, 0),
    ].map((c) => `<td>${escapeHtml(String(c))}</td>`);
    const verdict = st.broken.length === 0 ? 'held' : `broke ${st.broken.join(', ')}`;
    return `<tr${st.broken.length ? ' class="broke"' : ''}>${cells.join('')}<td class="l">${escapeHtml(verdict)}</td></tr>`;
  });
  return `<table><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr>${rows.join('')}</table>`;
}

/** The page's own script: builds the charts from the embedded result with uPlot. */
function chartScript(byLobbies: boolean): string {
  return `(() => {
const r = JSON.parse(document.getElementById('result').textContent);
const num = (v) => (v === null || v === undefined || !Number.isFinite(v) ? null : v);
const steps = r.steps, secs = r.seconds;
const xOf = (s) => ${byLobbies ? 's.load.lobbies' : 's.clients'};
const heldX = r.ceiling.held ? ${byLobbies ? 'r.ceiling.held.lobbies' : 'r.ceiling.held.clients'} : null;
const brokeX = r.ceiling.broke ? ${byLobbies ? 'r.ceiling.broke.lobbies' : 'r.ceiling.broke.clients'} : null;
const brokeStep = steps.find((s) => s.broken.length > 0);
const brokeT = brokeStep ? brokeStep.fromS : null;
const heldStep = [...steps].reverse().find((s) => s.broken.length === 0);
const heldT = heldStep ? heldStep.toS : null;
const limit = (metric) => (r.settings.until.find((c) => c.metric === metric) || {}).threshold;
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
function marks(xs, ys) {
  return { hooks: { draw: [(u) => {
    const ctx = u.ctx; ctx.save(); ctx.lineWidth = 2 * devicePixelRatio;
    const vline = (x, color) => { if (x === null) return; const px = u.valToPos(x, 'x', true);
      ctx.strokeStyle = color; ctx.setLineDash([6, 4]); ctx.beginPath();
      ctx.moveTo(px, u.bbox.top); ctx.lineTo(px, u.bbox.top + u.bbox.height); ctx.stroke(); };
    vline(xs[0], '#2a7'); vline(xs[1], '#d33');
    for (const y of ys) { if (y === undefined) continue; const py = u.valToPos(y, 'y', true);
      ctx.strokeStyle = '#e90'; ctx.setLineDash([2, 3]); ctx.beginPath();
      ctx.moveTo(u.bbox.left, py); ctx.lineTo(u.bbox.left + u.bbox.width, py); ctx.stroke(); }
    ctx.restore(); }] } };
}
function chart(parent, title, xLabel, x, series, yLabel, ceilingXs, limits) {
  const el = document.createElement('div'); el.className = 'chart'; parent.appendChild(el);
  new uPlot({ title, width: 620, height: 260, plugins: [marks(ceilingXs, limits)],
    // From 0, and high enough to show the limit lines.
    scales: { x: { time: false }, y: { range: (u, min, max) => [Math.min(0, min ?? 0),
      (Math.max(max ?? 0, ...limits.filter((l) => l !== undefined)) || 1) * 1.1] } },
    axes: [{ label: xLabel }, { label: yLabel }],
    series: [{ label: xLabel }, ...series.map((s, i) => ({ label: s.label, stroke: colors[i], width: 2, points: { show: true } }))],
  }, [x, ...series.map((s) => s.values.map(num))], el);
}
const byLoad = document.getElementById('by-load'), byTime = document.getElementById('by-time');
const xs = steps.map(xOf), lx = ${JSON.stringify(byLobbies ? 'lobbies' : 'clients')};
const m = (k) => steps.map((s) => s.measures[k]);
const c = [heldX, brokeX];
chart(byLoad, 'Server tick duration', lx, xs, [{ label: 'p50 ms', values: m('tick_p50') }, { label: 'p99 ms', values: m('tick_p99') }], 'ms', c, [limit('tick_p99')]);
chart(byLoad, 'Client frames per second', lx, xs, [{ label: 'mean', values: m('client_fps') }, { label: 'p5', values: m('client_fps_p5') }], 'fps', c, [limit('client_fps'), limit('client_fps_p5')]);
chart(byLoad, 'End-to-end latency (server send to bot decode)', lx, xs, [{ label: 'p50 ms', values: m('latency_p50') }, { label: 'p99 ms', values: m('latency_p99') }], 'ms', c, [limit('latency_p99'), limit('latency_p50')]);
chart(byLoad, 'Bytes per second per client', lx, xs, [{ label: 'KiB/s', values: steps.map((s) => s.bytesPerClientPerS / 1024) }], 'KiB/s', c, []);
chart(byLoad, 'CPU (% of one core)', lx, xs, [{ label: 'server', values: m('server_cpu') }, { label: 'bots', values: m('bot_cpu') }], '%', c, [limit('server_cpu')]);
chart(byLoad, 'Server resident memory', lx, xs, [{ label: 'RSS MiB', values: m('server_rss') }], 'MiB', c, [limit('server_rss')]);
chart(byLoad, 'Frames skipped per client per second', lx, xs, [{ label: 'server skipped (backpressure)', values: m('skipped') }, { label: 'ticks bots missed', values: steps.map((s) => s.missedPerS) }], '/s', c, [limit('skipped')]);
const ts = secs.map((s) => s.t), tc = [heldT, brokeT];
const col = (k) => secs.map((s) => s[k]);
chart(byTime, 'Load', 'seconds', ts, [{ label: 'clients', values: col('clients') }, { label: 'connected', values: col('live') }], 'clients', tc, []);
chart(byTime, 'Client frames per second', 'seconds', ts, [{ label: 'mean', values: col('fps') }, { label: 'p5', values: col('fpsP5') }], 'fps', tc, []);
chart(byTime, 'End-to-end latency', 'seconds', ts, [{ label: 'p50 ms', values: col('latencyP50Ms') }, { label: 'p99 ms', values: col('latencyP99Ms') }], 'ms', tc, []);
chart(byTime, 'Server tick duration', 'seconds', ts, [{ label: 'p50 ms', values: col('tickP50Ms') }, { label: 'p99 ms', values: col('tickP99Ms') }], 'ms', tc, []);
chart(byTime, 'CPU (% of one core)', 'seconds', ts, [{ label: 'server', values: col('serverCpu') }, { label: 'bots', values: col('botCpu') }], '%', tc, []);
chart(byTime, 'Server RSS and event loop lag', 'seconds', ts, [{ label: 'RSS MiB', values: col('serverRssMiB') }, { label: 'loop lag p99 ms', values: col('loopLagP99Ms') }], '', tc, []);
})();`;
}
