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
import { type RedisServer, startRedis, stopAllRedis } from '../../bench/redis-server.js';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { joinLobby, startServer, type TestServer } from '../support/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = join(ROOT, 'deploy/prometheus/prometheus.yml');
const ALERTS = join(ROOT, 'dashboards/prometheus/alerts.yml');
const DASHBOARD = join(ROOT, 'dashboards/swarmhost-overview.json');
/** The compose service names, which are also the instances' ids there. */
const NAMES = ['swarmhost-1', 'swarmhost-2', 'swarmhost-3'];
const READY_TIMEOUT_MS = 20_000;
const SCRAPED_TIMEOUT_MS = 20_000;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
interface QueryResult {
  status: string;
  error?: string;
  data?: { result: Sample[] };
}
interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

/** The compose scrape configuration, pointed at the test's instances and sped up. */
async function renderConfig(targets: Map<string, string>): Promise<string> {
  let text = await readFile(CONFIG, 'utf8');
  const replace = (from: string, to: string) => {
    const count = text.split(from).length - 1;
    if (count !== 1)
      throw new Error(`deploy/prometheus/prometheus.yml: expected '${from}' once, found ${count}`);
    text = text.replace(from, to);
  };
  replace('scrape_interval: 5s', 'scrape_interval: 1s');
  replace('scrape_timeout: 4s', 'scrape_timeout: 1s');
  replace('- alerts.yml', `- ${JSON.stringify(ALERTS)}`);
  for (const [name, target] of targets) replace(`- ${name}:8080`, `- ${target}`);
  return text;
}

/** Grafana's value for a multi-value variable in a regex matcher: `(a|b|c)`, each escaped. */
const multiValue = (values: string[]) =>
  `(${values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&')).join('|')})`;

const allPanels = (panels: Panel[]): Panel[] =>
  panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);

describe('Prometheus over a fleet of three (deploy/prometheus/prometheus.yml)', () => {
  let redis: RedisServer;
  const servers: TestServer[] = [];
  const players: LobbyClient[] = [];
  let prometheus: PrometheusProcess | undefined;
  let promUrl = '';
  let dashboard: Dashboard;
  /** The scrape target (`127.0.0.1:port`) of each instance, by name. */
  const targets = new Map<string, string>();

  const query = async (promql: string): Promise<Sample[]> => {
    const res = await fetch(`${promUrl}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: promql }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as QueryResult;
    if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
    return body.data?.result ?? [];
  };
  /** The value of each series by its `instance` label. */
  const byInstance = async (promql: string) =>
    Object.fromEntries((await query(promql)).map((s) => [s.metric.instance, Number(s.value[1])]));
  const waitForQuery = async (promql: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while ((await query(promql)).length === 0) {
      if (Date.now() > deadline)
        throw new Error(`no data from ${promql} in ${timeoutMs} ms\n${prometheus?.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const panelExprs = (title: string): string[] => {
    const panel = allPanels(dashboard.panels).find((p) => p.title === title);
    if (!panel) throw new Error(`the dashboard has no panel '${title}'`);
    return (panel.targets ?? []).map((t) => t.expr);
  };
  const expectedTargets = () => Object.fromEntries(NAMES.map((name) => [targets.get(name), 1]));

  beforeAll(async () => {
    if (!existsSync(PROMETHEUS))
      throw new Error(
        `${PROMETHEUS} not found: this test needs Debian's prometheus package, which .ci/run installs. It fails rather than skips.`,
      );
    dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
    redis = await startRedis();
    const prefix = `prometheus-fleet-${Math.random().toString(36).slice(2, 8)}`;
    for (const name of NAMES) {
      const server = await startServer({
        instanceId: name,
        redisUrl: redis.url,
        redisPrefix: prefix,
        // Lobbies inline and small: three instances share this process and two cores.
        workers: 0,
        defaultParticles: 300,
        leaseMs: 1500,
        redisTimeoutMs: 400,
      });
      servers.push(server);
      targets.set(name, `127.0.0.1:${server.port}`);
    }
    // One lobby on each instance, owned there (its lease is free, so the join takes it).
    for (const [i, server] of servers.entries()) {
      const player = await joinLobby(server, `lobby-${i + 1}`);
      players.push(player);
      expect(player.welcome?.instanceId).toBe(NAMES[i]);
    }

    prometheus = await startPrometheus(await renderConfig(targets), 'prometheus-fleet');
    promUrl = prometheus.url;
    await prometheus.ready(READY_TIMEOUT_MS);
    // Every target scraped, and each instance's lease round has counted its lobby.
    await waitForQuery('count(up{job="swarmhost"} == 1) == 3', SCRAPED_TIMEOUT_MS);
    await waitForQuery('count(swarmhost_lobbies_owned == 1) == 3', SCRAPED_TIMEOUT_MS);
  }, 60_000);

  afterAll(async () => {
    for (const player of players) if (player.closeCode === undefined) player.close();
    await prometheus?.stop();
    await Promise.all(servers.map((server) => server.close().catch(() => {})));
    await stopAllRedis();
  }, 30_000);

  it('scrapes each instance as its own target, all up, each named by its instance id', async () => {
    expect(await byInstance('up{job="swarmhost"}')).toEqual(expectedTargets());
    const info = await query('swarmhost_info{job="swarmhost"}');
    const idByTarget = Object.fromEntries(
      info.map((s) => [s.metric.instance, s.metric.instance_id]),
    );
    expect(idByTarget).toEqual(Object.fromEntries(NAMES.map((name) => [targets.get(name), name])));
  });

  it('fills the dashboard’s Instance variable with all three', async () => {
    const variable = dashboard.templating.list.find((v) => v.name === 'instance');
    const definition = typeof variable?.query === 'string' ? variable.query : variable?.query.query;
    const match = /^label_values\((.+),\s*(\w+)\)$/.exec(definition ?? '');
    expect(match, String(definition)).not.toBeNull();
    const [, selector, label] = match!;
    const values = (await query(`count by (${label}) (${selector})`)).map((s) => s.metric[label]);
    expect(values.sort()).toEqual([...targets.values()].sort());
  });

  it('shows every instance in Instances up and the Fleet row, for All and for all three picked', async () => {
    const picks = ['.*', multiValue([...targets.values()])];
    for (const instance of picks) {
      const fill = (expr: string) => expr.replace(/\$\{?instance\b\}?/g, instance);
      const [up] = panelExprs('Instances up');
      expect(await byInstance(fill(up)), instance).toEqual(expectedTargets());
      const [owned] = panelExprs('Lobbies owned and ownership conflicts');
      expect(await byInstance(fill(owned)), instance).toEqual(expectedTargets());
      const redisUp = panelExprs('Redis errors per second by operation, and Redis up').find((e) =>
        e.includes('swarmhost_redis_up'),
      );
      expect(await byInstance(fill(redisUp!)), instance).toEqual(expectedTargets());
    }
  });

  it('sees an instance that stops as the one target down', async () => {
    const [stopped] = servers.splice(2, 1);
    players[2].close();
    await stopped.close();
    const target = targets.get(NAMES[2])!;
    await waitForQuery(`up{job="swarmhost", instance="${target}"} == 0`, SCRAPED_TIMEOUT_MS);
    expect(await byInstance('up{job="swarmhost"}')).toEqual({ ...expectedTargets(), [target]: 0 });
  });
});
