/**
 * Debian's Prometheus as a child process for the dashboard tests: started
 * on a free 127.0.0.1 port with a given scrape configuration in a temp dir
 * of its own, waited for until ready, stopped (SIGTERM, SIGKILL after 5 s)
 * and its dir removed. Its last 8 KB of output are kept for failure
 * messages.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../bench/free-port.js';

export const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export interface PrometheusProcess {
  url: string;
  /** Its recent output. */
  log(): string;
  /** Resolves once /-/ready answers 200; throws if it exits or is not ready in time. */
  ready(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrometheus(config: string, name: string): Promise<PrometheusProcess> {
  const dir = await mkdtemp(join(tmpdir(), `swarmhost-${name}-`));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    url,
    log: () => output,
    async ready(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.exitCode !== null)
          throw new Error(`prometheus exited with ${child.exitCode}:\n${output}`);
        const ok = await fetch(`${url}/-/ready`).then(
          (res) => res.ok,
          () => false,
        );
        if (ok) return;
        if (Date.now() > deadline)
          throw new Error(`prometheus not ready in ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timeout = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timeout);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
