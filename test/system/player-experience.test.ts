/**
 * The page reports its player's experience, in real Chromium against a real
 * server: a `stats` report every STATS_REPORT_INTERVAL_MS with sane values
 * (frames drawn and received, the ping's round trip, the age of the drawn
 * state), which the server accepts (its /metrics and /status `players`
 * show it); the frame age includes the playout delay the page chose; and
 * reports resume on a restarted server after a reconnect.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PlayersSummary } from '../../src/player-experience.js';
import { metricValue } from '../support/metrics.js';
import type { TestServer } from '../support/server.js';
import {
  type Browser,
  describeBrowser,
  launchBrowser,
  startServerAt,
  waitForClient,
} from './browser.js';

const REPORTS = 'swarmhost_client_stats_reports_total';

async function playersOf(server: TestServer, lobbyId: string): Promise<PlayersSummary | undefined> {
  const status = (await (await server.adminFetch('/status')).json()) as {
    lobbies: { id: string; players: PlayersSummary }[];
  };
  return status.lobbies.find((lobby) => lobby.id === lobbyId)?.players;
}

describeBrowser('player experience reports', () => {
  let server: TestServer | undefined;
  let browser: Browser;
  const pages: Page[] = [];

  const open = async (path: string): Promise<Page> => {
    const page = await browser.context.newPage();
    pages.push(page);
    await page.goto(`${server!.http}${path}`);
    return page;
  };

  beforeAll(async () => {
    server = await startServerAt(0, { defaultParticles: 1000 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('sends sane reports every interval, and the server takes them into /metrics and /status', async () => {
    const page = await open('/lobby/felt');
    const s = await waitForClient(
      page,
      (d) => d.experience.reportsSent >= 2,
      15_000,
      'two stats reports',
    );
    const report = s.experience.last!;
    expect(report.fps).toBeGreaterThan(0);
    expect(report.received).toBeGreaterThan(0);
    expect(Number.isInteger(report.received) && Number.isInteger(report.skipped)).toBe(true);
    expect(report.decodeMs).toBeGreaterThanOrEqual(0);
    expect(report.rttMs).toBeGreaterThanOrEqual(0);
    expect(report.latencyMs).toBeGreaterThan(0);
    expect(report.latencyMs).toBeLessThan(1000);
    expect(report.bufferMs).toBeGreaterThan(0);
    expect(Number.isFinite(s.experience.clockOffsetMs)).toBe(true);
    // The HUD shows the drawn frame's age next to the round trip.
    await expect.poll(() => page.textContent('#age')).toMatch(/^\d+ ms$/);
    await expect.poll(() => page.textContent('#rtt')).toMatch(/^\d+\.\d ms$/);

    // The server validated each one against the protocol's ranges and kept it.
    expect(await metricValue(server!, REPORTS, { result: 'accepted' })).toBeGreaterThanOrEqual(2);
    for (const result of ['invalid_message', 'out_of_range', 'rate_limited', 'not_joined'])
      expect(await metricValue(server!, REPORTS, { result }), result).toBe(0);
    const players = await playersOf(server!, 'felt');
    expect(players?.reporting).toBeGreaterThanOrEqual(1);
    expect(players?.latencyMeanMs).toBeGreaterThan(0);
    expect(players?.rttMeanMs).not.toBeNull();
    expect(await metricValue(server!, 'swarmhost_client_latency_seconds_count')).toBeGreaterThan(0);
    await page.close();
  }, 30_000);

  it('counts the playout delay in the frame age: the drawn state is the delay old, and more', async () => {
    // 400 ms behind the newest frame by design: a meter that timed the newest
    // frame instead of the drawn one would report a few milliseconds.
    const page = await open('/lobby/felt-late?delay=400');
    const s = await waitForClient(
      page,
      (d) => d.experience.reportsSent >= 2,
      15_000,
      'two stats reports',
    );
    const report = s.experience.last!;
    expect(report.bufferMs).toBeGreaterThan(250);
    expect(report.latencyMs).toBeGreaterThan(300);
    expect(report.latencyMs).toBeLessThan(2000);
    await page.close();
  }, 30_000);

  it('reports again, to the new server, after reconnecting to a restarted one', async () => {
    const page = await open('/lobby/felt-again');
    const first = await waitForClient(
      page,
      (d) => d.experience.reportsSent >= 1,
      15_000,
      'a stats report',
    );
    const { port } = server!;
    await server!.close();
    server = undefined;
    await waitForClient(page, (d) => d.state !== 'live', 5000, 'the socket lost');
    server = await startServerAt(port, { defaultParticles: 800 });
    const again = await waitForClient(
      page,
      (d) => d.sessions === 2 && d.experience.reportsSent > first.experience.reportsSent,
      20_000,
      'a report on the new socket',
    );
    expect(again.state).toBe('live');
    expect(again.experience.last?.received).toBeGreaterThan(0);
    await expect
      .poll(() => metricValue(server!, REPORTS, { result: 'accepted' }), { timeout: 5000 })
      .toBeGreaterThanOrEqual(1);
    expect((await playersOf(server!, 'felt-again'))?.reporting).toBe(1);
    await page.close();
  }, 45_000);
});
