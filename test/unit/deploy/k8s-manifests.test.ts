/**
 * deploy/k8s, every manifest parsed (there is no cluster here): the files
 * kustomization.yaml applies, the Deployment's probes, drain timeline,
 * resources, image, environment (through the server's own configuration
 * loader) and security context, the Service and Ingress ports that must
 * meet the container's, the hash annotation, Redis, the disruption budget,
 * and the Prometheus job that goes with them.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { defaultConfig, loadConfig } from '../../../src/config.js';
import { unknownVariables } from '../../../src/unknown-variables.js';
import {
  cpuCores,
  DEPLOY,
  envNumber,
  envValue,
  memoryBytes,
  ROOT,
  readYaml,
  readYamlDocuments,
} from './deploy-files.js';

const K8S = join(DEPLOY, 'k8s');

// ── the objects ────────────────────────────────────────────────────────────

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
  spec?: any;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  resources?: {
    requests?: { cpu?: string; memory?: string };
    limits?: { cpu?: string; memory?: string };
  };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  securityContext?: { allowPrivilegeEscalation?: boolean; runAsNonRoot?: boolean };
}
interface Kustomization {
  namespace: string;
  resources: string[];
  images: { name: string; newName?: string; newTag?: string }[];
}

const kustomization = readYaml<Kustomization>(join(K8S, 'kustomization.yaml'));
const objects: K8sObject[] = kustomization.resources.flatMap((file) =>
  readYamlDocuments<K8sObject>(join(K8S, file)),
);
const find = (kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/k8s`);
  return found;
};

const deployment = find('Deployment', 'swarmhost');
const pod = deployment.spec.template;
const container: Container = pod.spec.containers[0];
const env = container.env ?? [];
const service = find('Service', 'swarmhost');
const ingress = find('Ingress', 'swarmhost');

/** A container port by name or number, as a probe or Service may name it. */
function containerPort(c: Container, port: string | number): number | undefined {
  return typeof port === 'number'
    ? c.ports?.find((p) => p.containerPort === port)?.containerPort
    : c.ports?.find((p) => p.name === port)?.containerPort;
}

/** The environment the server gets, with sample values for what the cluster fills in. */
function resolvedEnv(vars: EnvVar[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of vars) {
    if (v.value !== undefined) out[v.name] = v.value;
    else if (v.valueFrom?.fieldRef?.fieldPath === 'metadata.name')
      out[v.name] = 'swarmhost-7d4b9c8f6-x2x9q';
    else if (v.valueFrom?.secretKeyRef) out[v.name] = '';
    else throw new Error(`${v.name}: a source this test does not know`);
  }
  return out;
}

/** How long the preStop hook holds the pod before SIGTERM, in ms (0 without one). */
function preStopMs(c: Container): number {
  const hook = c.lifecycle?.preStop;
  if (!hook) return 0;
  if (hook.sleep) return hook.sleep.seconds * 1000;
  const command = hook.exec?.command ?? [];
  if (command[0]?.endsWith('sleep')) return Number(command[1]) * 1000;
  throw new Error(`a preStop hook this test cannot time: ${JSON.stringify(hook)}`);
}

/**
 * How long ingress-nginx may take to stop sending new connections to a
 * deleted pod: the controller applies endpoint changes at most every
 * 1/--sync-rate-limit seconds (default 0.3/s) and its Lua balancer reloads
 * them every second (BACKENDS_SYNC_INTERVAL in balancer.lua).
 */
const INGRESS_NGINX_PROPAGATION_MS = 1000 / 0.3 + 1000;
/** RSS of one instance at its default particle budget (60,000): docs/BENCHMARKS.md measured 195-201 MiB. */
const MEASURED_RSS_BYTES = 205 * 2 ** 20;

// ── the tests ──────────────────────────────────────────────────────────────

describe('deploy/k8s: the files', () => {
  it('applies every manifest in the directory, each a named object in the namespace', () => {
    const onDisk = readdirSync(K8S)
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
      .sort();
    expect([...kustomization.resources].sort()).toEqual(onDisk);
    expect(objects.length).toBeGreaterThanOrEqual(onDisk.length);
    for (const object of objects) {
      expect(object.apiVersion, JSON.stringify(object.metadata)).toMatch(/\S/);
      expect(object.metadata?.name, object.kind).toMatch(/^[a-z0-9-]+$/);
    }
    expect(find('Namespace', kustomization.namespace)).toBeDefined();
  });

  it('names its image once, in kustomization.yaml, with a pinned tag', () => {
    const image = kustomization.images.find((i) => i.name === container.image);
    expect(image, `kustomization images should set ${container.image}`).toBeDefined();
    expect(image!.newTag).toMatch(/\S/);
    expect(image!.newTag).not.toBe('latest');
  });
});

describe('deploy/k8s: the swarmhost Deployment', () => {
  it('runs three replicas, one at a time replaced, each waiting until the ingress routes to it', () => {
    expect(deployment.spec.replicas).toBe(3);
    for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels))
      expect(pod.metadata.labels[key], key).toBe(value);
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(deployment.spec.minReadySeconds * 1000).toBeGreaterThan(INGRESS_NGINX_PROPAGATION_MS);
  });

  it('probes readiness on /readyz and liveness (and start) on /healthz, on the server’s port', () => {
    const port = Number(envValue(env, 'PORT'));
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.startupProbe?.httpGet?.path).toBe('/healthz');
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe])
      expect(containerPort(container, probe!.httpGet!.port)).toBe(port);
    // A liveness failure restarts the pod: it must be slower to fire than readiness.
    const fires = (p: Probe) => (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3);
    expect(fires(container.livenessProbe!)).toBeGreaterThan(fires(container.readinessProbe!));
  });

  it('lets the drain finish: grace period > drain timeout + preStop, and the delay covers ingress-nginx', () => {
    const delay = envNumber(env, 'SWARMHOST_DRAIN_DELAY_MS', 'swarmhost');
    const timeout = envNumber(env, 'SWARMHOST_DRAIN_TIMEOUT_MS', 'swarmhost');
    const graceMs = pod.spec.terminationGracePeriodSeconds * 1000;
    expect(graceMs).toBeGreaterThanOrEqual(timeout + preStopMs(container) + 5000);
    expect(delay).toBeGreaterThan(INGRESS_NGINX_PROPAGATION_MS);
    expect(timeout).toBeGreaterThan(delay + 5000);
    // The drain delay does the preStop's job, refusing hand-overs meanwhile (see the manifest).
    expect(preStopMs(container)).toBe(0);
  });

  it('passes the server’s start-up configuration check: fleet mode through the redis Service', () => {
    const values = resolvedEnv(env);
    expect(unknownVariables(values)).toEqual([]);
    const config = loadConfig(values);
    expect(config.port).toBe(containerPort(container, 'http'));
    expect(
      env.find((v) => v.name === 'SWARMHOST_INSTANCE_ID')?.valueFrom?.fieldRef?.fieldPath,
    ).toBe('metadata.name');
    const url = new URL(config.redisUrl);
    expect(url.protocol).toBe('redis:');
    const redisService = find('Service', url.hostname);
    const redisPort = Number(url.port || 6379);
    const servicePort = redisService.spec.ports.find((p: { port: number }) => p.port === redisPort);
    expect(servicePort, `Service ${url.hostname} has port ${redisPort}`).toBeDefined();
    const redisPod = find('Deployment', 'redis').spec.template;
    expect(
      containerPort(redisPod.spec.containers[0], servicePort.targetPort),
      'the redis Service reaches the redis container',
    ).toBe(6379);
    for (const [key, value] of Object.entries(redisService.spec.selector))
      expect(redisPod.metadata.labels[key], key).toBe(value);
  });

  it('sets requests and limits from the benchmarks: a core per lobby worker plus one, memory for slow clients', () => {
    const { requests, limits } = container.resources ?? {};
    for (const quantity of [requests?.cpu, requests?.memory, limits?.cpu, limits?.memory])
      expect(quantity).toBeDefined();
    // Workers default to usable cores - 1 (the CPU limit counted): two
    // cores make one worker (SWARMHOST_PARTICLE_BUDGET particles at 60 Hz)
    // and leave the main thread a core for the sockets.
    expect(cpuCores(limits!.cpu!)).toBeGreaterThanOrEqual(2);
    expect(cpuCores(requests!.cpu!)).toBe(cpuCores(limits!.cpu!));
    // What docs/BENCHMARKS.md measured, plus a full send buffer for every socket allowed.
    const defaults = defaultConfig();
    const worstCase = MEASURED_RSS_BYTES + defaults.maxSockets * defaults.sendHighWaterBytes;
    expect(memoryBytes(limits!.memory!)).toBeGreaterThanOrEqual(worstCase);
    expect(memoryBytes(requests!.memory!)).toBe(memoryBytes(limits!.memory!));
  });

  it('runs as a numbered non-root user with no privilege to gain', () => {
    const podSecurity = pod.spec.securityContext;
    expect(podSecurity.runAsNonRoot).toBe(true);
    expect(podSecurity.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
  });

  it('asks annotation-based Prometheus to scrape /metrics on the server’s port', () => {
    const annotations = pod.metadata.annotations;
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(Number(annotations['prometheus.io/port'])).toBe(containerPort(container, 'http'));
    expect(annotations['prometheus.io/path']).toBe('/metrics');
  });

  it('spreads its pods and lets a node drain take one at a time', () => {
    const pdb = find('PodDisruptionBudget', 'swarmhost');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    const spread = pod.spec.topologySpreadConstraints[0];
    expect(spread.topologyKey).toBe('kubernetes.io/hostname');
    expect(spread.labelSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });
});

describe('deploy/k8s: Service and Ingress', () => {
  it('routes the Service to the pods’ http port', () => {
    for (const [key, value] of Object.entries(service.spec.selector))
      expect(pod.metadata.labels[key], key).toBe(value);
    const [port] = service.spec.ports;
    expect(containerPort(container, port.targetPort)).toBe(Number(envValue(env, 'PORT')));
  });

  it('sends every Ingress path to a port the Service has, through ingress-nginx', () => {
    expect(ingress.spec.ingressClassName).toBe('nginx');
    const servicePorts = service.spec.ports as { name: string; port: number }[];
    for (const rule of ingress.spec.rules) {
      for (const path of rule.http.paths) {
        expect(path.backend.service.name, path.path).toBe(service.metadata.name);
        const { name, number } = path.backend.service.port;
        expect(
          servicePorts.some((p) => p.name === name || p.port === number),
          path.path,
        ).toBe(true);
        // Regular expressions are ImplementationSpecific (Prefix/Exact paths are validated as plain).
        expect(path.pathType, path.path).toBe('ImplementationSpecific');
      }
    }
  });

  it('hashes on $lobby to the pods themselves, with WebSocket timeouts above the heartbeat', () => {
    const a = ingress.metadata.annotations!;
    expect(a['nginx.ingress.kubernetes.io/upstream-hash-by']).toBe('$lobby');
    expect(a['nginx.ingress.kubernetes.io/use-regex']).toBe('true');
    // service-upstream would send everything to the ClusterIP, where kube-proxy picks at random.
    expect(a['nginx.ingress.kubernetes.io/service-upstream']).not.toBe('true');
    const heartbeatSeconds = defaultConfig().heartbeatMs / 1000;
    for (const key of ['proxy-read-timeout', 'proxy-send-timeout']) {
      expect(
        Number(a[`nginx.ingress.kubernetes.io/${key}`]),
        `${key} above two heartbeats`,
      ).toBeGreaterThan(2 * heartbeatSeconds);
    }
  });
});

describe('deploy/k8s: Redis', () => {
  it('is one Redis 7 pod at a time, append-only, never evicting, capped below its memory limit', () => {
    const redis = find('Deployment', 'redis');
    expect(redis.spec.replicas).toBe(1);
    expect(redis.spec.strategy.type).toBe('Recreate');
    const c: Container = redis.spec.template.spec.containers[0];
    expect(c.image).toMatch(/^redis:7(\.|$|-)/);
    const args = (c.args ?? []).join(' ');
    expect(args).toMatch(/--appendonly yes\b/);
    expect(args).toMatch(/--maxmemory-policy noeviction\b/);
    const maxmemory = /--maxmemory (\d+)mb\b/.exec(args);
    expect(maxmemory).not.toBeNull();
    expect(Number(maxmemory![1]) * 2 ** 20).toBeLessThan(memoryBytes(c.resources!.limits!.memory!));
    expect(c.readinessProbe?.exec?.command).toEqual(['redis-cli', 'ping']);
  });
});

describe('deploy/k8s/prometheus/swarmhost-job.yaml', () => {
  interface Job {
    job_name: string;
    kubernetes_sd_configs: { role: string; namespaces: { names: string[] } }[];
    relabel_configs: { source_labels?: string[]; regex?: string; action?: string }[];
    metric_relabel_configs: unknown[];
  }
  const [job] = readYaml<Job[]>(join(K8S, 'prometheus/swarmhost-job.yaml'));

  it('is the dashboards’ swarmhost job, finding the pods’ http port in the namespace', () => {
    const shipped = readYaml<{
      scrape_configs: { job_name: string; metric_relabel_configs: unknown[] }[];
    }>(join(ROOT, 'dashboards/prometheus/prometheus.yml'));
    const dashboardsJob = shipped.scrape_configs.find((j) => j.job_name === 'swarmhost')!;
    expect(job.job_name).toBe(dashboardsJob.job_name);
    expect(job.metric_relabel_configs).toEqual(dashboardsJob.metric_relabel_configs);
    expect(job.kubernetes_sd_configs[0].role).toBe('pod');
    expect(job.kubernetes_sd_configs[0].namespaces.names).toEqual([kustomization.namespace]);
    const keep = job.relabel_configs.find((r) => r.action === 'keep');
    expect(keep?.source_labels).toEqual(['__meta_kubernetes_pod_container_port_name']);
    expect(keep?.regex).toBe(container.ports?.[0].name);
  });

  it('passes promtool check config inside a whole configuration with the alert rules', () => {
    // Debian's Prometheus is built without Kubernetes discovery (its promtool
    // rejects the field), so the discovery is swapped for a static target:
    // the relabelling, the job and the rules are what promtool checks.
    const { kubernetes_sd_configs: _, ...rest } = job;
    const checkable = { ...rest, static_configs: [{ targets: ['swarmhost-0:8080'] }] };
    const work = mkdtempSync(join(tmpdir(), 'swarmhost-k8s-prometheus-'));
    try {
      copyFileSync(join(ROOT, 'dashboards/prometheus/alerts.yml'), join(work, 'alerts.yml'));
      writeFileSync(
        join(work, 'prometheus.yml'),
        stringify({ rule_files: ['alerts.yml'], scrape_configs: [checkable] }),
      );
      execFileSync('/usr/bin/promtool', ['check', 'config', join(work, 'prometheus.yml')], {
        stdio: 'pipe',
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
