/**
 * A hand-over seen from real Chromium: the page is opened through a router
 * standing in for the load balancer, in front of two fleet instances
 * sharing a real Redis. When a player joins the lobby on the other
 * instance, the page is closed with 4007 "moved", reconnects at once
 * without a reload, and plays on in the same world (its particle count,
 * spawns included, and its tick carry on).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RedisServer, startRedis, stopAllRedis } from '../../bench/redis-server.js';
import { joinLobby, startServer, type TestServer } from '../support/server.js';
import { startTableRouter, type TableRouter } from '../support/table-router.js';
import { type Browser, describeBrowser, launchBrowser, waitForClient } from './browser.js';

describeBrowser('fleet hand-over in the browser', () => {
  let redis: RedisServer;
  let browser: Browser;
  let router: TableRouter;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    browser = await launchBrowser();
    for (const name of ['a', 'b']) {
      servers.push(
        await startServer({
          instanceId: name,
          redisUrl: redis.url,
          workers: 0,
          defaultParticles: 1500,
          leaseMs: 1500,
          redisTimeoutMs: 400,
        }),
      );
    }
    router = await startTableRouter({ defaultTarget: 'a' });
    router.setInstance('a', servers[0].port);
    router.setInstance('b', servers[1].port);
  });
  afterAll(async () => {
    await browser?.close();
    await router?.close();
    await Promise.all(servers.map((server) => server.close()));
    await stopAllRedis();
  });

  it('follows a 4007 to the new owner at once, without a reload, in the same world', async () => {
    router.route('voyage', 'a');
    const page = await browser.context.newPage();
    await page.goto(`${router.url}/lobby/voyage`);
    await waitForClient(
      page,
      (d) => d.state === 'live' && d.instanceId === 'a',
      10_000,
      'live on a',
    );
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 7;
    });
    // A bot spawns into the lobby on a, so the world is no longer the seed's.
    const bot = await joinLobby(servers[0], 'voyage');
    bot.spawn(100, 100, 200);
    const before = await waitForClient(page, (d) => d.particles === 1700, 5000, 'spawn seen');
    bot.close();

    // The balancer now sends the lobby to b, and a player joins there.
    router.route('voyage', 'b');
    const movedAt = Date.now();
    const newcomer = await joinLobby(servers[1], 'voyage');
    expect(newcomer.welcome?.instanceId).toBe('b');
    const after = await waitForClient(
      page,
      (d) => d.state === 'live' && d.instanceId === 'b' && d.particles === 1700,
      5000,
      'live on b',
    );
    expect(Date.now() - movedAt).toBeLessThan(5000);
    expect(after.sessions).toBe(before.sessions + 1);
    expect(after.tick).toBeGreaterThanOrEqual(before.tick);
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(7);
    expect(servers[0].app.directory.get('voyage')).toBeUndefined();
    expect(servers[1].app.directory.get('voyage')?.feed.size).toBe(2);
    newcomer.close();
  });
});
