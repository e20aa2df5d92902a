/**
 * deploy/compose.yaml, read as Compose reads it (there is no Docker here):
 * three fleet-mode instances built from the Dockerfile with nothing run by
 * npm, a grace period that outlasts the drain, a readiness health check that
 * needs no curl, Redis that never evicts, one balancer per profile mounting
 * configurations that exist and point at the instances, and Prometheus
 * scraping every instance with the shipped job. Each instance's environment
 * goes through the server's own configuration loader.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { unknownVariables } from '../../../src/unknown-variables.js';
import {
  composeDurationMs,
  DEPLOY,
  envNumber,
  envValue,
  fileExists,
  ROOT,
  readText,
  readYaml,
} from './deploy-files.js';

interface Service {
  build?: string | { context?: string; dockerfile?: string };
  image?: string;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, unknown>;
  init?: boolean;
  ports?: (string | { target: number; published: string | number })[];
  expose?: string[];
  volumes?: (string | { type: string; source: string; target: string })[];
  profiles?: string[];
  stop_signal?: string;
  stop_grace_period?: string;
  healthcheck?: { test: string | string[] };
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
}
interface Compose {
  services: Record<string, Service>;
  networks?: Record<string, { ipam?: { config?: { subnet: string }[] } }>;
}

const COMPOSE_FILE = join(DEPLOY, 'compose.yaml');
const compose = readYaml<Compose>(COMPOSE_FILE);
const services = compose.services;
const REPLICAS = ['swarmhost-1', 'swarmhost-2', 'swarmhost-3'];
/** The balancers: profile name, the service, and where its image reads its configuration. */
const BALANCERS = [
  {
    profile: 'nginx',
    config: 'deploy/nginx/swarmhost.conf',
    target: '/etc/nginx/conf.d/default.conf',
    listens: /^\s*listen\s+(?:[\d.]+:)?(\d+)\b/gm,
    servers: /^\s*server\s+([\w.-]+):(\d+)\b/gm,
  },
  {
    profile: 'haproxy',
    config: 'deploy/haproxy/haproxy.cfg',
    target: '/usr/local/etc/haproxy/haproxy.cfg',
    listens: /^\s*bind\s+\S*:(\d+)\b/gm,
    servers: /^\s*server\s+\S+\s+([\w.-]+):(\d+)\b/gm,
  },
] as const;

const replica = (name: string): Service => {
  const service = services[name];
  if (!service) throw new Error(`compose.yaml has no service ${name}`);
  return service;
};

/** The environment as the container sees it: `${VAR:-default}` as Compose fills it with VAR unset. */
function containerEnv(service: Service): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(service.environment ?? {})) {
    env[name] = String(value ?? '').replace(/\$\{\w+(?::?-([^}]*))?\}/g, (_, fallback) =>
      String(fallback ?? ''),
    );
  }
  return env;
}

/** Bind mounts (short or long syntax) with their source resolved against deploy/; named volumes left out. */
function bindMounts(service: Service): { source: string; target: string }[] {
  return (service.volumes ?? []).flatMap((volume) => {
    const [source, target] =
      typeof volume === 'string' ? volume.split(':') : [volume.source, volume.target];
    const isPath = /^(\.{1,2}\/|\.{1,2}$|\/)/.test(source);
    return isPath ? [{ source: resolve(DEPLOY, source), target }] : [];
  });
}

const words = (value: string | string[] | undefined): string =>
  Array.isArray(value) ? value.join(' ') : (value ?? '');

/** The exec-form CMD and ENTRYPOINT of the Dockerfile's last stage. */
function finalStageStart(dockerfile: string): { cmd: string[]; entrypoint: string[] } {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n');
  const froms = lines.flatMap((line, i) => (/^\s*FROM\s/i.test(line) ? [i] : []));
  const stage = lines.slice(froms.at(-1));
  const instruction = (name: string): string[] => {
    const line = stage.filter((l) => new RegExp(`^\\s*${name}\\s`, 'i').test(l)).at(-1);
    if (!line) return [];
    const args = line.replace(new RegExp(`^\\s*${name}\\s+`, 'i'), '').trim();
    // The shell form runs `/bin/sh -c`, whose PID 1 shell never passes SIGTERM on.
    if (!args.startsWith('[')) return ['/bin/sh', '-c', args];
    return JSON.parse(args) as string[];
  };
  return { cmd: instruction('CMD'), entrypoint: instruction('ENTRYPOINT') };
}

function addressesOf(service: Service): string[] {
  const networks = service.networks;
  if (!networks || Array.isArray(networks)) return [];
  return Object.values(networks).flatMap((n) => (n?.ipv4_address ? [n.ipv4_address] : []));
}

function inSubnet(address: string, cidr: string): boolean {
  const toInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const [base, bits] = cidr.split('/');
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  return (toInt(address) & mask) >>> 0 === (toInt(base) & mask) >>> 0;
}

describe('deploy/compose.yaml: the instances', () => {
  it('runs exactly three swarmhost instances, written once (x-swarmhost anchor) and merged into each', () => {
    const built = Object.entries(services)
      .filter(([, s]) => s.build !== undefined)
      .map(([name]) => name);
    expect(built).toEqual(REPLICAS);
    const text = readText(COMPOSE_FILE);
    expect(text).toMatch(/^x-swarmhost: &swarmhost$/m);
    for (const name of REPLICAS) {
      expect(text).toMatch(new RegExp(`^  ${name}:\\n    <<: \\*swarmhost$`, 'm'));
    }
  });

  it('builds each from the root Dockerfile, whose image starts node itself: no npm, no shell', () => {
    for (const name of REPLICAS) {
      const { build } = replica(name);
      const context = typeof build === 'string' ? build : build?.context;
      const dockerfile = (typeof build === 'object' && build.dockerfile) || 'Dockerfile';
      expect(context, name).toBeDefined();
      expect(resolve(DEPLOY, context!), name).toBe(resolve(ROOT));
      expect(resolve(ROOT, dockerfile), name).toBe(join(ROOT, 'Dockerfile'));
      // The image's own start, untouched: no command, no entrypoint, no source mounted over it.
      expect(replica(name).command, name).toBeUndefined();
      expect(replica(name).entrypoint, name).toBeUndefined();
      expect(bindMounts(replica(name)), name).toEqual([]);
    }
    const { cmd, entrypoint } = finalStageStart(readText(join(ROOT, 'Dockerfile')));
    const start = [...entrypoint, ...cmd];
    expect(start.join(' ')).not.toMatch(/\bnpm\b|\bsh\b|\bbash\b/);
    expect(cmd[0]).toBe('node');
    expect(cmd).toContain('dist/src/main.js');
  });

  it('passes a start-up configuration check: fleet mode, a distinct id each, nothing unknown', () => {
    const ids = new Set<string>();
    for (const name of REPLICAS) {
      const env = containerEnv(replica(name));
      expect(unknownVariables(env), name).toEqual([]);
      const config = loadConfig(env);
      // The Redis URL names the compose service `redis` on Redis's port.
      const redisUrl = new URL(config.redisUrl);
      expect(redisUrl.protocol, name).toBe('redis:');
      expect(redisUrl.hostname, name).toBe('redis');
      expect(redisUrl.port || '6379', name).toBe('6379');
      expect(services[redisUrl.hostname], name).toBeDefined();
      // Named after the service, so instance_id on the dashboard is the service name.
      expect(config.instanceId, name).toBe(name);
      ids.add(config.instanceId);
      expect(config.port, name).toBe(8080);
      expect(replica(name).expose, name).toContain(String(config.port));
    }
    expect(ids.size).toBe(REPLICAS.length);
  });

  it('lets the drain finish: SIGTERM to node, stop_grace_period above the drain timeout above the delay', () => {
    for (const name of REPLICAS) {
      const service = replica(name);
      const env = containerEnv(service);
      const delay = envNumber(env, 'SWARMHOST_DRAIN_DELAY_MS', name);
      const timeout = envNumber(env, 'SWARMHOST_DRAIN_TIMEOUT_MS', name);
      expect(service.stop_signal ?? 'SIGTERM', name).toBe('SIGTERM');
      expect(service.init, name).toBe(true);
      expect(service.stop_grace_period, `${name}: Compose's default is 10 s`).toBeDefined();
      const grace = composeDurationMs(service.stop_grace_period!);
      // A margin for closing the listeners and exiting after the drain.
      expect(grace, name).toBeGreaterThanOrEqual(timeout + 2000);
      expect(timeout, name).toBeGreaterThan(delay + 2000);
    }
  });

  it('health-checks /readyz on its own port with node, not curl or a shell', () => {
    for (const name of REPLICAS) {
      const test = replica(name).healthcheck?.test;
      expect(Array.isArray(test), name).toBe(true);
      const [kind, binary] = test as string[];
      expect(kind, name).toBe('CMD');
      expect(binary, name).toBe('node');
      const script = (test as string[]).join(' ');
      expect(script, name).toContain(
        `127.0.0.1:${envValue(replica(name).environment, 'PORT')}/readyz`,
      );
      expect(script, name).not.toMatch(/\b(curl|wget)\b/);
      // 200 is healthy; a 503 (draining) or no answer is not.
      expect(script, name).toMatch(/r\.ok \? 0 : 1/);
    }
  });

  it('publishes no instance port: players come through the balancer, whose addresses alone are trusted', () => {
    const balancerAddresses = BALANCERS.flatMap(({ profile }) => addressesOf(services[profile]));
    expect(balancerAddresses).toHaveLength(BALANCERS.length);
    for (const name of REPLICAS) {
      expect(replica(name).ports, name).toBeUndefined();
      const trusted = envValue(replica(name).environment, 'SWARMHOST_TRUST_PROXY')!.split(',');
      expect(trusted.sort(), name).toEqual([...balancerAddresses].sort());
    }
  });

  it('keeps every instance and balancer at its own fixed address in the fleet subnet', () => {
    const subnet = compose.networks?.fleet?.ipam?.config?.[0]?.subnet;
    expect(subnet).toBeDefined();
    const fixed = [...REPLICAS, ...BALANCERS.map((b) => b.profile)].map((name) => {
      const [address] = addressesOf(services[name]);
      expect(address, name).toBeDefined();
      expect(inSubnet(address, subnet!), `${name} ${address} in ${subnet}`).toBe(true);
      return address;
    });
    expect(new Set(fixed).size).toBe(fixed.length);
  });
});

describe('deploy/compose.yaml: Redis', () => {
  it('is Redis 7 with an append-only file and no eviction, checked before the instances start', () => {
    const redis = services.redis;
    expect(redis.image).toMatch(/^redis:7(\.|$|-)/);
    const command = words(redis.command);
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(redis.healthcheck).toBeDefined();
    for (const name of REPLICAS) {
      const dependsOn = (replica(name) as { depends_on?: Record<string, { condition: string }> })
        .depends_on;
      expect(dependsOn?.redis?.condition, name).toBe('service_healthy');
    }
  });
});

describe('deploy/compose.yaml: the load balancer', () => {
  it.each(BALANCERS)(
    '$profile runs only in its profile, published on 8080, with the repo’s $config',
    (b) => {
      const service = services[b.profile];
      expect(service, b.profile).toBeDefined();
      expect(service.profiles).toEqual([b.profile]);
      expect(service.ports).toEqual(['8080:80']);
      const mounts = bindMounts(service);
      expect(mounts).toEqual([{ source: join(ROOT, b.config), target: b.target }]);
      expect(fileExists(join(ROOT, b.config)), `${b.config} is missing from the repository`).toBe(
        true,
      );
    },
  );

  it.each(BALANCERS)('$config listens on the published port and names every instance', (b) => {
    const text = readText(join(ROOT, b.config)).replace(/#.*$/gm, '');
    // The container port published as 8080 (HAProxy may also bind a stats port, published or not).
    const listens = [...text.matchAll(b.listens)].map((m) => m[1]);
    const published = String(services[b.profile].ports?.[0]).split(':').at(-1);
    expect(
      listens,
      `${b.config} should listen on ${published}, the port compose publishes`,
    ).toContain(published);
    const servers = [...text.matchAll(b.servers)].map(([, host, port]) => `${host}:${port}`);
    const expected = REPLICAS.map(
      (name) => `${name}:${envValue(replica(name).environment, 'PORT')}`,
    );
    expect(servers.sort()).toEqual(expected);
  });

  it('starts after the instances, whose names the balancer resolves when it loads', () => {
    for (const { profile } of BALANCERS) {
      const dependsOn = (services[profile] as { depends_on?: Record<string, unknown> }).depends_on;
      expect(Object.keys(dependsOn ?? {}).sort(), profile).toEqual(REPLICAS);
    }
  });
});

describe('deploy/compose.yaml: Prometheus and Grafana', () => {
  const prometheus = services.prometheus;
  const mounts = bindMounts(prometheus);
  const configMount = mounts.find((m) => m.target === '/etc/prometheus/prometheus.yml');
  interface Job {
    job_name: string;
    static_configs?: { targets: string[] }[];
  }
  interface PromConfig {
    rule_files: string[];
    scrape_configs: Job[];
  }

  it('scrapes every instance (never the balancer) with the dashboards’ own swarmhost job', () => {
    expect(configMount).toBeDefined();
    const config = readYaml<PromConfig>(configMount!.source);
    const job = config.scrape_configs.find((j) => j.job_name === 'swarmhost');
    const targets = job?.static_configs?.flatMap((c) => c.targets);
    expect(targets).toEqual(
      REPLICAS.map((name) => `${name}:${envValue(replica(name).environment, 'PORT')}`),
    );
    // The same job as dashboards/prometheus/prometheus.yml (which the
    // dashboard and alerts are proven against), but for its targets.
    const shipped = readYaml<PromConfig>(join(ROOT, 'dashboards/prometheus/prometheus.yml'));
    const withoutTargets = (c: PromConfig) => ({
      ...c,
      scrape_configs: c.scrape_configs.map(({ static_configs: _, ...rest }) => rest),
    });
    expect(withoutTargets(config)).toEqual(withoutTargets(shipped));
  });

  it('mounts the alert rules where the config names them, and promtool accepts the pair', () => {
    const config = readYaml<PromConfig>(configMount!.source);
    const work = mkdtempSync(join(tmpdir(), 'swarmhost-compose-prometheus-'));
    try {
      for (const rule of config.rule_files) {
        const target = join(dirname(configMount!.target), rule);
        const mount = mounts.find((m) => m.target === target);
        expect(mount, `${rule} mounted at ${target}`).toBeDefined();
        copyFileSync(mount!.source, join(work, rule));
      }
      copyFileSync(configMount!.source, join(work, 'prometheus.yml'));
      execFileSync('/usr/bin/promtool', ['check', 'config', join(work, 'prometheus.yml')], {
        stdio: 'pipe',
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('mounts only files and directories that exist (Grafana’s provisioning and dashboard included)', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const mount of bindMounts(service)) {
        expect(fileExists(mount.source), `${name}: ${mount.source}`).toBe(true);
      }
    }
    const grafana = bindMounts(services.grafana).map((m) => m.source);
    expect(grafana).toEqual(
      expect.arrayContaining([
        join(ROOT, 'dashboards/grafana/provisioning/datasources'),
        join(ROOT, 'dashboards/grafana/provisioning/dashboards'),
        join(ROOT, 'dashboards/swarmhost-overview.json'),
      ]),
    );
  });
});
