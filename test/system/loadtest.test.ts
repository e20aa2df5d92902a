/**
 * `npm run loadtest` end to end, as a child process against real servers on
 * 127.0.0.1: a short ramp against a server given by --url (lobbies created
 * over POST /lobbies, the send rate set and put back), a limit that breaks
 * at once against a server the run starts itself, and an interrupt. The
 * report is opened in real Chromium.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadtestResult } from '../../bench/loadtest/result.js';
import { parseSamples, sum } from '../../bench/prometheus-text.js';
import { startServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { CHROMIUM, CHROMIUM_ARGS } from './browser.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  out: string;
}

function loadtest(args: string[], onStart?: (child: ChildProcess) => void): Promise<Run> {
  const out = mkdtempSync(join(tmpdir(), 'loadtest-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/loadtest.ts', '--out', out, '--workers', '1', ...args],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  onStart?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => {
    // A hang bound, not a speed assertion: a run that never ends fails here.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, out });
    });
  });
}

const readResult = (run: Run): LoadtestResult =>
  JSON.parse(readFileSync(join(run.out, 'result.json'), 'utf8')) as LoadtestResult;

describe('npm run loadtest', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 500, sendRate: 60 });
  });
  afterAll(async () => server?.close());

  it('ramps bots against --url, measures them and the server, writes result.json and a report that draws', async () => {
    const prefix = `ramp${Date.now()}`;
    const run = await loadtest([
      '--url',
      server.http,
      '--token',
      TEST_ADMIN_TOKEN,
      '--particles',
      '1500',
      '--clients',
      '3',
      '--ramp',
      'clients:+3/3s',
      '--settle',
      '1',
      '--duration',
      '10',
      '--send-rate',
      '30',
      '--decode',
      '2',
      '--until',
      'latency_p99>60s',
      '--lobby-prefix',
      prefix,
    ]);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(join(run.out, 'result.json'));
    expect(run.stdout).toContain(join(run.out, 'report.html'));
    const result = readResult(run);
    expect(result.stoppedBy).toBe('duration');
    expect(result.ceiling.reached).toBe(false);
    expect(result.steps.length).toBeGreaterThanOrEqual(2);
    expect(result.steps.map((s) => s.clients).slice(0, 2)).toEqual([3, 6]);
    for (const step of result.steps) {
      expect(step.broken).toEqual([]);
      expect(step.live).toBe(step.clients);
      const m = step.measures;
      // The send rate the bots asked for: about 30 frames a second, not 60.
      expect(m.client_fps).toBeGreaterThan(20);
      expect(m.client_fps).toBeLessThan(40);
      expect(m.latency_p50).toBeGreaterThan(0);
      expect(m.latency_p99).toBeGreaterThanOrEqual(m.latency_p50);
      expect(m.tick_rate).toBeGreaterThan(40);
      expect(m.tick_p99).toBeGreaterThan(0);
      expect(m.server_cpu).toBeGreaterThan(0);
      expect(m.server_rss).toBeGreaterThan(10);
      expect(m.bot_cpu).toBeGreaterThan(0);
      expect(step.bytesPerClientPerS).toBeGreaterThan(0);
    }
    expect(result.seconds.length).toBeGreaterThanOrEqual(6);
    // The lobby was created with --particles; the server's own rate was never touched.
    const config = (await (await server.adminFetch('/config')).json()) as {
      config: { sendRate: number };
    };
    expect(config.config.sendRate).toBe(60);
    const lobby = (await (await server.adminFetch(`/lobbies/${prefix}-0`)).json()) as {
      particles: number;
    };
    expect(lobby.particles).toBe(1500);
    // The bots reported their experience, and every report was accepted.
    const metrics = parseSamples(await (await server.adminFetch('/metrics')).text());
    const reports = (result: string) =>
      sum(metrics, 'swarmhost_client_stats_reports_total', { result });
    expect(reports('accepted')).toBeGreaterThan(0);
    expect(sum(metrics, 'swarmhost_client_stats_reports_total') - reports('accepted')).toBe(0);
    expect(sum(metrics, 'swarmhost_client_latency_seconds_count')).toBeGreaterThan(0);

    const html = readFileSync(join(run.out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('requestfailed', (request) => errors.push(`request ${request.url()}`));
      await page.goto(`file://${join(run.out, 'report.html')}`);
      await page.waitForFunction(() => document.querySelectorAll('.uplot canvas').length >= 13);
      expect(errors).toEqual([]);
      expect(await page.textContent('.verdict')).toContain('No limit broke');
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('stops at the first step that breaks a limit, against a server it starts and stops itself', async () => {
    const run = await loadtest([
      '--clients',
      '2',
      '--particles',
      '500',
      '--ramp',
      'clients:+2/3s',
      '--settle',
      '1',
      '--duration',
      '30',
      '--until',
      'client_fps>1',
    ]);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ceiling: none held; 2 clients in 1 lobby broke client_fps>1/);
    const result = readResult(run);
    expect(result.stoppedBy).toBe('limit');
    expect(result.target.local).toBe(true);
    expect(result.ceiling.held).toBeUndefined();
    expect(result.ceiling).toMatchObject({
      reached: true,
      broke: { clients: 2, limits: ['client_fps>1'] },
    });
    expect(result.steps).toHaveLength(1);
    // The server it started is gone with it.
    await expect(fetch(`${result.target.url}/healthz`)).rejects.toThrow();
    const html = readFileSync(join(run.out, 'report.html'), 'utf8');
    expect(html).toContain('broke <b>client_fps&#62;1</b>');
  }, 90_000);

  it('on SIGINT, ends the step, writes what it measured and exits 0', async () => {
    let child: ChildProcess | undefined;
    const running = loadtest(
      [
        '--url',
        server.http,
        '--clients',
        '2',
        '--duration',
        '60',
        '--settle',
        '1',
        '--until',
        'latency_p99>60s',
      ],
      (c) => {
        child = c;
      },
    );
    // Interrupt once it reports progress (non-TTY: its first line comes after a few seconds).
    await new Promise<void>((resolve) => {
      child!.stderr!.on('data', (chunk: Buffer) => {
        if (/\[\s*\d+ s\]/.test(chunk.toString())) resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 2500));
    child!.kill('SIGINT');
    const run = await running;
    expect(run.code).toBe(0);
    const result = readResult(run);
    expect(result.stoppedBy).toBe('interrupted');
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0].measures.client_fps).toBeGreaterThan(30);
  }, 90_000);
});
