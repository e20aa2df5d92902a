/**
 * The dashboards proven against a real Prometheus: swarmhost and Debian's
 * `prometheus` (scraping it every second with dashboards/prometheus's own
 * config and alert rules), real clients in a few lobbies — one of which stops
 * reading, so frames are skipped — then every panel query and template
 * variable of dashboards/swarmhost-overview.json is evaluated through
 * Prometheus's HTTP API and must return data, and must name only metrics
 * that /metrics exports. `promtool` checks our exposition and the rules and
 * runs the rules' unit tests.
 *
 * A missing prometheus or promtool binary is a failure, never a skip: CI
 * installs Debian's `prometheus` package (PROMETHEUS_BIN / PROMTOOL_BIN
 * override the paths).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PROMETHEUS,
  type PrometheusProcess,
  startPrometheus,
} from '../support/prometheus-process.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectorsOf } from '../support/promql-selectors.js';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

const PROMTOOL = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DASHBOARD = join(ROOT, 'dashboards/swarmhost-overview.json');
const PROM_DIR = join(ROOT, 'dashboards/prometheus');
/** What $__rate_interval becomes: several of the test's 1 s scrapes. */
const RATE_INTERVAL = '10s';
/** Series Prometheus makes itself that a panel may use. */
const PROMETHEUS_SERIES = new Set(['up']);

// ── the dashboard ──────────────────────────────────────────────────────────

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** Grafana's variables as the test selects them. */
function substitute(expr: string, vars: { instance: string; lobby: string }): string {
  // $name and ${name}, as Grafana writes them.
  const out = expr
    .replaceAll('$__rate_interval', RATE_INTERVAL)
    .replace(/\$\{?instance\b\}?/g, vars.instance)
    .replace(/\$\{?lobby\b\}?/g, vars.lobby);
  if (out.includes('$')) throw new Error(`unsubstituted variable in: ${out}`);
  return out;
}

/** How Grafana writes a single value into a PromQL regex matcher. */
const regexValue = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');

// ── metric names in PromQL ─────────────────────────────────────────────────

/** The metric names a PromQL expression selects. */
const metricNames = (expr: string): string[] => [
  ...new Set(selectorsOf(expr).map((selector) => selector.name)),
];

/** Every series name /metrics exports (histogram families expanded). */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match;
    names.add(name);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

// ── processes ──────────────────────────────────────────────────────────────

function requireBinary(path: string): void {
  if (!existsSync(path)) {
    throw new Error(
      `${path} not found: this test needs Debian's prometheus package (apt-get install -y prometheus), ` +
        'which provides prometheus and promtool. It fails rather than skips so CI cannot pass without it.',
    );
  }
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  command: string,
  args: string[],
  input?: string,
  timeoutMs = 20_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** dashboards/prometheus/prometheus.yml, pointed at the test server and sped up. */
async function testPrometheusConfig(target: string): Promise<string> {
  let text = await readFile(join(PROM_DIR, 'prometheus.yml'), 'utf8');
  const replace = (from: string, to: string) => {
    const count = text.split(from).length - 1;
    if (count !== 1)
      throw new Error(`prometheus.yml: expected '${from}' once, found it ${count} times`);
    text = text.replace(from, to);
  };
  replace('scrape_interval: 5s', 'scrape_interval: 1s');
  replace('scrape_timeout: 4s', 'scrape_timeout: 1s');
  replace('evaluation_interval: 15s', 'evaluation_interval: 1s');
  replace('- swarmhost:8080', `- ${target}`);
  replace('- alerts.yml', `- ${JSON.stringify(join(PROM_DIR, 'alerts.yml'))}`);
  return text;
}

interface QueryResult {
  status: string;
  error?: string;
  data?: {
    resultType: string;
    result: { metric: Record<string, string>; value: [number, string] }[];
  };
}

async function inBatches<T>(items: T[], size: number, each: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size)
    await Promise.all(items.slice(i, i + size).map(each));
}

// ── the test ───────────────────────────────────────────────────────────────

const tcp = (client: LobbyClient) =>
  (client.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;

describe('dashboards against a real Prometheus', () => {
  let server: TestServer;
  let prometheus: PrometheusProcess | undefined;
  let promUrl = '';
  let dashboard: Dashboard;
  let exposition = '';
  const clients: LobbyClient[] = [];
  const timers: NodeJS.Timeout[] = [];

  const query = async (promql: string): Promise<QueryResult> => {
    const res = await fetch(`${promUrl}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: promql }),
      signal: AbortSignal.timeout(10_000),
    });
    return (await res.json()) as QueryResult;
  };
  const hasData = async (promql: string) => {
    const result = await query(promql);
    return result.status === 'success' && (result.data?.result.length ?? 0) > 0;
  };
  const waitForQuery = async (promql: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await hasData(promql))) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for data from ${promql}\n${prometheus?.log()}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  beforeAll(async () => {
    requireBinary(PROMETHEUS);
    requireBinary(PROMTOOL);
    dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;

    server = await startServer({
      defaultParticles: 2000,
      sendHighWaterBytes: 16 * 1024,
      frameRing: 16,
    });
    // A big lobby for the reader that stops, so its socket fills quickly.
    const created = await server.adminFetch('/lobbies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'slow', particles: 20_000 }),
    });
    expect(created.status).toBe(201);

    prometheus = await startPrometheus(
      await testPrometheusConfig(`127.0.0.1:${server.port}`),
      'prometheus',
    );
    promUrl = prometheus.url;

    // Real clients: two steering in 'alpha', one in 'beta' that leaves, one
    // that stops reading in 'slow', and a few bad ones.
    const alpha = [await joinLobby(server, 'alpha'), await joinLobby(server, 'alpha')];
    clients.push(...alpha);
    let angle = 0;
    let step = 0;
    timers.push(
      setInterval(() => {
        angle += 0.3;
        step++;
        for (const client of alpha) {
          if (client.closeCode !== undefined) continue;
          client.sendInput(500 + 200 * Math.cos(angle), 500 + 200 * Math.sin(angle), 'attract');
          // The players' own reports, once a second (the stats rate limit's sustained rate).
          if (step % 10 === 0)
            client.sendStats({
              fps: 55 + (step % 7),
              received: 58,
              skipped: 2,
              decodeMs: 0.3,
              rttMs: 1.5,
              bufferMs: 35,
              latencyMs: 4 + (step % 5),
            });
        }
      }, 100),
    );
    const beta = await joinLobby(server, 'beta');
    clients.push(beta, await joinLobby(server, 'beta'));
    const slow = await joinLobby(server, 'slow');
    clients.push(slow);
    await waitFor(() => slow.frames > 0 && beta.frames > 0, 10_000, 'frames flowing');
    tcp(slow).pause();
    beta.sendRaw({ t: 'input', seq: 999, x: -1, y: 5, mode: 'attract' }); // out_of_range
    beta.close(1000, 'bye');
    const old = await joinLobby(server, 'beta', {}, { protocolVersion: 999 }); // refused: 4000
    expect(old.closeCode).toBe(4000);

    await waitFor(
      () => {
        const feed = server.app.directory.get('slow')?.feed;
        const session = feed?.clients().next().value;
        return feed !== undefined && session !== undefined && feed.framesSkipped(session) > 10;
      },
      30_000,
      'frames skipped for the reader that stopped',
    );

    await prometheus.ready(20_000);
    // Several scrapes, the last ones seeing the skips as a rate.
    await waitForQuery('count_over_time(up{job="swarmhost"}[1m]) >= 6', 30_000);
    await waitForQuery(`sum(rate(swarmhost_frames_skipped_total[${RATE_INTERVAL}])) > 0`, 20_000);
    await waitForQuery(`sum(rate(swarmhost_client_fps_count[${RATE_INTERVAL}])) > 0`, 20_000);
    exposition = await (await fetch(`${server.http}/metrics`)).text();
  }, 120_000);

  afterAll(async () => {
    for (const timer of timers) clearInterval(timer);
    for (const client of clients) if (client.closeCode === undefined) client.close();
    await prometheus?.stop();
    await server?.close();
  }, 30_000);

  it('has the shape Grafana provisions: uid, title, instance and lobby variables, a query per panel', () => {
    expect(dashboard.uid).toBe('swarmhost-overview');
    expect(dashboard.title).toBe('swarmhost overview');
    const variables = dashboard.templating.list.map((v) => v.name);
    expect(variables).toEqual(expect.arrayContaining(['instance', 'lobby']));
    const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');
    for (const panel of panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr, panel.title).toMatch(/\S/);
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
        expect(target.datasource?.uid, panel.title).toBe('${datasource}');
      }
    }
    // The panels the observability issue asks for.
    const titles = panels.map((p) => p.title).join('\n');
    for (const wanted of [
      /instances up/i,
      /lobbies by phase/i,
      /clients/i,
      /tick duration p50 \/ p99 per lobby/i,
      /overruns/i,
      /lateness/i,
      /frames sent vs skipped/i,
      /bytes out per second$/im,
      /bytes out per second per client/i,
      /inputs by result/i,
      /inbox depth/i,
      /encode time/i,
      /closes by code/i,
      /event-loop lag/i,
      /cpu/i,
      /memory/i,
      // Abuse and limits (issue #9).
      /game sockets refused by limit/i,
      /tcp connections dropped/i,
      /peers cut/i,
      /rate-limited and after-close/i,
      /policy closes/i,
      /admin auth failures/i,
      /session and process errors/i,
      /http requests refused before routing/i,
      /empty lobbies closed to make room/i,
      // Player experience (issue #13).
      /player fps p50 \/ p5/i,
      /player frame latency p50 \/ p99/i,
      /player rtt/i,
      /player decode time/i,
      /frames received and skipped per second \(reported by players\)/i,
      /stats reports per second by result/i,
    ]) {
      expect(titles).toMatch(wanted);
    }
  });

  it('evaluates every panel query with data, for one instance and lobby and for All', async () => {
    const exported = exportedNames(exposition);
    const failures: string[] = [];
    const selections = [
      { instance: regexValue(`127.0.0.1:${server.port}`), lobby: 'alpha' },
      { instance: '.*', lobby: '.*' },
    ];
    const evaluations: { label: string; promql: string }[] = [];
    for (const panel of allPanels(dashboard.panels)) {
      for (const target of panel.targets ?? []) {
        const label = `${panel.title} [${target.refId}]`;
        for (const name of metricNames(target.expr)) {
          if (!exported.has(name) && !PROMETHEUS_SERIES.has(name))
            failures.push(`${label}: ${name} is not a metric /metrics exports`);
        }
        for (const selection of selections)
          evaluations.push({ label, promql: substitute(target.expr, selection) });
      }
    }
    // A few at a time: the machine is small and the server shares this process.
    await inBatches(evaluations, 6, async ({ label, promql }) => {
      const result = await query(promql);
      if (result.status !== 'success') failures.push(`${label}: ${result.error} in ${promql}`);
      else if ((result.data?.result.length ?? 0) === 0)
        failures.push(`${label}: no data for ${promql}`);
    });
    expect(failures).toEqual([]);
    expect(evaluations.length).toBeGreaterThan(40);
  }, 60_000);

  it('fills the instance and lobby variables, and the info table names the instance', async () => {
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const definition =
        typeof variable.query === 'string'
          ? variable.query
          : (variable.query as { query: string }).query;
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(definition);
      expect(match, variable.name).not.toBeNull();
      const [, selector, label] = match!;
      const result = await query(
        `count by (${label}) (${substitute(selector, { instance: '.*', lobby: '.*' })})`,
      );
      const values = result.data?.result.map((r) => r.metric[label]) ?? [];
      if (variable.name === 'instance') expect(values).toContain(`127.0.0.1:${server.port}`);
      if (variable.name === 'lobby')
        expect(values).toEqual(expect.arrayContaining(['alpha', 'beta', 'slow']));
    }
    // prometheus.yml renames swarmhost_info's own instance label to instance_id.
    const info = await query(`swarmhost_info{instance="127.0.0.1:${server.port}"}`);
    expect(info.data?.result[0]?.metric.instance_id).toBe(server.app.config.instanceId);
  });

  it('sees the traffic the test made: skips, inputs, closes, refusals', async () => {
    const value = async (promql: string) =>
      Number((await query(promql)).data?.result[0]?.value[1] ?? 0);
    expect(
      await value('sum(swarmhost_frames_skipped_total{reason="backpressure"})'),
    ).toBeGreaterThan(0);
    expect(await value('sum(swarmhost_frames_sent_total)')).toBeGreaterThan(0);
    expect(await value('sum(swarmhost_inputs_total{result="accepted"})')).toBeGreaterThan(0);
    expect(await value('sum(swarmhost_inputs_total{result="out_of_range"})')).toBe(1);
    expect(await value('sum(swarmhost_ws_closes_total{code="1000"})')).toBe(1);
    expect(await value('sum(swarmhost_handshakes_refused_total{reason="version"})')).toBe(1);
    expect(await value('max(swarmhost_clients{lobby="alpha"})')).toBe(2);
    expect(
      await value('sum(swarmhost_client_stats_reports_total{result="accepted"})'),
    ).toBeGreaterThan(0);
    expect(await value('sum(swarmhost_client_stats_reports_total{result="rate_limited"})')).toBe(0);
    const fpsP50 = await value(
      `histogram_quantile(0.5, sum by (le) (rate(swarmhost_client_fps_bucket[${RATE_INTERVAL}])))`,
    );
    expect(fpsP50).toBeGreaterThanOrEqual(55);
    expect(fpsP50).toBeLessThanOrEqual(61);
  });

  it('loads the alert rules, all healthy and naming only exported metrics', async () => {
    const res = await fetch(`${promUrl}/api/v1/rules`);
    const body = (await res.json()) as {
      data: {
        groups: { rules: { name: string; query: string; health: string; lastError?: string }[] }[];
      };
    };
    const rules = body.data.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'SwarmhostInstanceDown',
        'SwarmhostTickP99OverBudget',
        'SwarmhostFramesSkipped',
        'SwarmhostLobbyRestarted',
        'SwarmhostProcessErrors',
        'SwarmhostSessionErrors',
        'SwarmhostConnectionsDropped',
        'SwarmhostAdminAuthFailures',
        'SwarmhostHandshakesRefused',
        'SwarmhostLobbyOwnershipConflict',
        'SwarmhostRedisErrors',
        'SwarmhostCheckpointsUnusable',
      ]),
    );
    const exported = exportedNames(exposition);
    for (const rule of rules) {
      expect(rule.health, `${rule.name}: ${rule.lastError}`).toBe('ok');
      for (const name of metricNames(rule.query)) {
        expect(exported.has(name) || PROMETHEUS_SERIES.has(name), `${rule.name}: ${name}`).toBe(
          true,
        );
      }
    }
  });

  it('catches a query that names a metric we do not export', async () => {
    const bogus = 'sum by (lobby) (rate(swarmhost_tick_overrun_total{instance=~".*"}[10s]))';
    expect(metricNames(bogus)).toEqual(['swarmhost_tick_overrun_total']);
    expect(exportedNames(exposition).has('swarmhost_tick_overrun_total')).toBe(false);
    expect(await hasData(bogus)).toBe(false);
    // The name scan sees through functions, aggregations, matchers, ranges and numbers.
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, lobby) (rate(a_bucket{x="y"}[5m]))) > 1e-9 or sum by (lobby) (0 * b) unless c offset 15m',
      ).sort(),
    ).toEqual(['a_bucket', 'b', 'c']);
  });

  it('promtool check metrics reports nothing on /metrics', async () => {
    const result = await run(PROMTOOL, ['check', 'metrics'], exposition);
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.code).toBe(0);
  });

  it('promtool accepts the rules and the config, and the rules unit tests pass', async () => {
    const rules = await run(PROMTOOL, ['check', 'rules', join(PROM_DIR, 'alerts.yml')]);
    expect(rules.code, rules.stdout + rules.stderr).toBe(0);
    const config = await run(PROMTOOL, ['check', 'config', join(PROM_DIR, 'prometheus.yml')]);
    expect(config.code, config.stdout + config.stderr).toBe(0);
    const tests = await run(PROMTOOL, ['test', 'rules', join(PROM_DIR, 'alerts.test.yml')]);
    expect(tests.code, tests.stdout + tests.stderr).toBe(0);
    expect(tests.stdout).toContain('SUCCESS');
  });
});
