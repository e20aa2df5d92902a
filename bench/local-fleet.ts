/**
 * `npm run fleet:local`: a fleet on this machine to point the load
 * generator (or a browser) at: one real redis-server, N instances in fleet
 * mode, and real HAProxy running the shipped deploy/haproxy/haproxy.cfg in
 * front of them. It prints the balancer's URL, the instances' /metrics and
 * a ready-made loadtest command line, then runs until Ctrl-C (or
 * --seconds), and stops everything it started.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { intOption, parseOptions, runMain } from './cli-options.js';
import { startHaproxy } from './haproxy.js';
import { startRedis } from './redis-server.js';
import { stopChild } from './child-processes.js';
import { LOOPBACK_CLIENT_CAPS, startServerProcess } from './server-process.js';

const USAGE = `npm run fleet:local -- [options]

Starts redis-server, N swarmhost instances in fleet mode and HAProxy (the
shipped deploy/haproxy/haproxy.cfg) on 127.0.0.1, prints the URLs, and runs
until Ctrl-C.

  --instances N     swarmhost instances        (default 3, 1..16)
  --workers W       lobby worker threads each  (default 1, 1..64)
  --seconds S       stop by itself after S s   (default: run until Ctrl-C)
  -h, --help        this text
`;

runMain('fleet:local', async () => {
  const values = parseOptions(process.argv.slice(2), {
    instances: { type: 'string' },
    workers: { type: 'string' },
    seconds: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const instances = intOption(values, 'instances', 3, 1, 16);
  const workers = intOption(values, 'workers', 1, 1, 64);
  const seconds = intOption(values, 'seconds', 0, 1, 86_400);
  const token = randomBytes(16).toString('hex');
  const redis = await startRedis();
  const children: ChildProcess[] = [];
  let haproxy: Awaited<ReturnType<typeof startHaproxy>> | undefined;
  try {
    const bases: string[] = [];
    for (let i = 1; i <= instances; i++) {
      const { child, base } = await startServerProcess({
        ...LOOPBACK_CLIENT_CAPS,
        SWARMHOST_REDIS_URL: redis.url,
        SWARMHOST_INSTANCE_ID: `swarmhost-${i}`,
        SWARMHOST_ADMIN_TOKEN: token,
        SWARMHOST_ADMIN_PORT: '-1',
        SWARMHOST_WORKERS: String(workers),
        SWARMHOST_MAX_LOBBIES: '10000',
        SWARMHOST_MAX_CLIENTS_PER_LOBBY: '10000',
        SWARMHOST_MAX_PARTICLES: '1000000',
        SWARMHOST_PARTICLE_BUDGET: '10000000',
      });
      children.push(child);
      bases.push(base);
    }
    haproxy = await startHaproxy(
      bases.map((base, i) => ({ name: `swarmhost-${i + 1}`, port: Number(new URL(base).port) })),
    );
    const url = `http://127.0.0.1:${haproxy.port}`;
    const metrics = bases.map((base) => `${base}/metrics`).join(',');
    console.log(`redis:     ${redis.url}`);
    for (const [i, base] of bases.entries()) console.log(`instance ${i + 1}: ${base}`);
    console.log(`haproxy:   ${url} (stats http://127.0.0.1:${haproxy.statsPort}/stats)`);
    console.log(`admin token: ${token}`);
    console.log(
      `\nnpm run loadtest -- --url ${url} --metrics ${metrics} --token ${token} --ramp lobbies:+1/10s`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      if (seconds > 0) setTimeout(resolve, seconds * 1000).unref();
    });
  } finally {
    await haproxy?.stop();
    await Promise.all(children.map(stopChild));
    await redis.stop();
  }
  return 0;
});
