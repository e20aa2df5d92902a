/**
 * No "No data" on a fresh instance: every series that a dashboard panel
 * (dashboards/*.json) or an alert rule (dashboards/prometheus/alerts.yml)
 * selects exists from the start, with nothing driven: a fresh server is
 * scraped once, every `expr` is read for its selectors (metric name and
 * label matchers), and each must match at least one sample; an equality
 * matcher (`{reason="backpressure"}`) needs a sample with that value, and
 * a regex of plain alternatives (`code=~"1008|1009"`) one for each.
 *
 * Series labelled by lobby cannot exist before a lobby does (its id is
 * the label value); for those, a query that sums the lobbies away (an
 * instance-wide panel) must fall back with `or` to something that exists,
 * and once one lobby exists (one player joined, nothing else) every
 * per-lobby selector matches a sample of that lobby.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseSamples, type Sample } from '../../bench/prometheus-text.js';
import { type Matcher, type Selector, selectorsOf } from '../support/promql-selectors.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

const ROOT = new URL('../../', import.meta.url);
/** Labels Prometheus adds to every scraped series: never in /metrics. */
const TARGET_LABELS = new Set(['instance', 'job']);
/** Series Prometheus makes itself. */
const PROMETHEUS_SERIES = new Set(['up']);
interface Query {
  where: string;
  expr: string;
}

// ── what the dashboards and rules select ───────────────────────────────────

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function dashboardQueries(): Query[] {
  const queries: Query[] = [];
  const dir = new URL('dashboards/', ROOT);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { panels: Panel[] };
    const walk = (panels: Panel[]) => {
      for (const panel of panels) {
        for (const target of panel.targets ?? [])
          if (target.expr) queries.push({ where: `${file}: ${panel.title}`, expr: target.expr });
        walk(panel.panels ?? []);
      }
    };
    walk(dashboard.panels);
  }
  return queries;
}

function ruleQueries(): Query[] {
  const rules = parseYaml(
    readFileSync(new URL('dashboards/prometheus/alerts.yml', ROOT), 'utf8'),
  ) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
  return rules.groups.flatMap((group) =>
    group.rules.map((rule) => ({
      where: `alerts.yml: ${rule.alert ?? rule.record}`,
      expr: rule.expr,
    })),
  );
}

// ── matching samples ───────────────────────────────────────────────────────

/** A matcher whose value is a Grafana variable matches whatever the variable is set to. */
const isVariable = (m: Matcher) => m.value.includes('$');

function matches(sample: Sample, matcher: Matcher): boolean {
  const value = sample.labels[matcher.label] ?? '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return new RegExp(`^(?:${matcher.value})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${matcher.value})$`).test(value);
  }
}

/** What a selector needs of the scrape, or undefined if it is satisfied. */
function missing(selector: Selector, samples: Sample[], extra: Matcher[] = []): string | undefined {
  const own = selector.matchers.filter((m) => !TARGET_LABELS.has(m.label) && !isVariable(m));
  const all = [...own, ...extra];
  const of = samples.filter((s) => s.name === selector.name);
  if (!of.some((s) => all.every((m) => matches(s, m)))) return seriesText(selector.name, all);
  // A regex of plain alternatives names label values: each must exist.
  for (const m of own.filter((m) => m.op === '=~' && /^[\w-]+(\|[\w-]+)+$/.test(m.value))) {
    for (const value of m.value.split('|')) {
      const each = [...all.filter((x) => x !== m), { label: m.label, op: '=' as const, value }];
      if (!of.some((s) => each.every((x) => matches(s, x)))) return seriesText(selector.name, each);
    }
  }
  return undefined;
}

const seriesText = (name: string, matchers: Matcher[]) =>
  `${name}{${matchers.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(', ')}}`;

/** Whether an expression keeps lobbies apart: a lobby matcher, or grouping by lobby. */
const keepsLobbies = (expr: string, selector: Selector) =>
  selector.matchers.some((m) => m.label === 'lobby') || /\bby\s*\([^)]*\blobby\b[^)]*\)/.test(expr);

// ── the test ───────────────────────────────────────────────────────────────

let server: TestServer;
let samples: Sample[];
let perLobby: Set<string>;
const queries = [...dashboardQueries(), ...ruleQueries()];

const scrape = async () => parseSamples(await (await fetch(`${server.admin}/metrics`)).text());

beforeAll(async () => {
  server = await startServer({ workers: 0, defaultParticles: 100 });
  // Nothing driven: no lobby, no client, no request but this scrape.
  samples = await scrape();
  // Metric names (histograms with their series) whose metric has a lobby label.
  perLobby = new Set<string>();
  for (const metric of server.app.metrics.registry.getMetricsAsArray()) {
    const { name, labelNames } = metric as unknown as { name: string; labelNames: string[] };
    if (!labelNames.includes('lobby')) continue;
    for (const suffix of ['', '_bucket', '_sum', '_count']) perLobby.add(name + suffix);
  }
});

afterAll(async () => {
  await server?.close();
});

describe('a fresh instance, nothing driven', () => {
  it('reads the selectors of every dashboard panel and alert rule', () => {
    expect(queries.length).toBeGreaterThan(60);
    expect(selectorsOf('sum by (le, lobby) (rate(a_bucket{x="y", z=~"1|2"}[5m])) > 1e-9')).toEqual([
      {
        name: 'a_bucket',
        matchers: [
          { label: 'x', op: '=', value: 'y' },
          { label: 'z', op: '=~', value: '1|2' },
        ],
      },
    ]);
    expect(
      selectorsOf(
        'histogram_quantile(0.99, b) or sum by (lobby) (0 * c{d!="e"}) unless f offset 15m',
      ),
    ).toEqual([
      { name: 'b', matchers: [] },
      { name: 'c', matchers: [{ label: 'd', op: '!=', value: 'e' }] },
      { name: 'f', matchers: [] },
    ]);
    // The checker sees a missing label value, and each missing alternative.
    const scraped = parseSamples('m_total{reason="a"} 0\nm_total{reason="b"} 0\n');
    const sel = (value: string, op: Matcher['op'] = '=') => ({
      name: 'm_total',
      matchers: [{ label: 'reason', op, value }],
    });
    expect(missing(sel('a'), scraped)).toBeUndefined();
    expect(missing(sel('c'), scraped)).toBe('m_total{reason="c"}');
    expect(missing(sel('a|b', '=~'), scraped)).toBeUndefined();
    expect(missing(sel('a|c', '=~'), scraped)).toBe('m_total{reason="c"}');
  });

  it('exports every series they select, with every label value they name', () => {
    const failures: string[] = [];
    for (const { where, expr } of queries) {
      for (const selector of selectorsOf(expr)) {
        if (PROMETHEUS_SERIES.has(selector.name) || perLobby.has(selector.name)) continue;
        const need = missing(selector, samples);
        if (need) failures.push(`${where}: no sample for ${need}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a query that sums per-lobby series away falls back with `or`, so it shows 0 without lobbies', () => {
    const failures: string[] = [];
    for (const { where, expr } of queries) {
      for (const selector of selectorsOf(expr)) {
        if (!perLobby.has(selector.name) || keepsLobbies(expr, selector)) continue;
        if (!/\bor\b/.test(expr)) failures.push(`${where}: ${selector.name} without a fallback`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('one lobby, one player, nothing else', () => {
  it('every per-lobby series the dashboards and rules select exists for that lobby', async () => {
    const player = await joinLobby(server, 'fresh');
    try {
      await waitFor(() => player.frames > 1, 5000, 'frames');
      const withLobby = await scrape();
      const lobby: Matcher = { label: 'lobby', op: '=', value: 'fresh' };
      const failures: string[] = [];
      for (const { where, expr } of queries) {
        for (const selector of selectorsOf(expr)) {
          if (!perLobby.has(selector.name)) continue;
          const need = missing(selector, withLobby, [lobby]);
          if (need) failures.push(`${where}: no sample for ${need}`);
        }
      }
      expect(failures).toEqual([]);
    } finally {
      player.close();
    }
  });
});
