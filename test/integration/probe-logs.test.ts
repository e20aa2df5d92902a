/**
 * Requests to /healthz, /readyz and /metrics (polled every few seconds by
 * load balancers and Prometheus) are logged at debug: an info log shows
 * other requests but none of theirs, a debug log shows them too. Logs are
 * read from a real server's log stream.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { startServer, type TestServer } from '../support/server.js';

const PROBES = ['/healthz', '/readyz', '/metrics'];

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  req?: { url?: string };
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Starts a server at `logLevel`, requests every probe and GET /lobbies, returns the URLs logged. */
async function loggedUrls(overrides: Partial<Config>): Promise<Map<string, LogLine[]>> {
  const lines: LogLine[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n'))
        if (line.startsWith('{')) lines.push(JSON.parse(line));
      done();
    },
  });
  server = await startServer({ workers: 0, ...overrides }, { logger: true, logStream });
  for (const path of PROBES) {
    // /metrics is an operator's route: on the admin listener when there is one.
    const response = await fetch(`${path === '/metrics' ? server.admin : server.http}${path}`);
    expect(response.status, path).toBe(200);
    await response.arrayBuffer();
  }
  expect((await fetch(`${server.http}/lobbies`)).status).toBe(200);
  // Every line of a request carries its reqId; only 'incoming request' has the URL.
  const urlOf = new Map<string, string>();
  for (const line of lines) if (line.reqId && line.req?.url) urlOf.set(line.reqId, line.req.url);
  const byUrl = new Map<string, LogLine[]>();
  for (const line of lines) {
    const url = line.reqId && urlOf.get(line.reqId);
    if (!url) continue;
    byUrl.set(url, [...(byUrl.get(url) ?? []), line]);
  }
  return byUrl;
}

describe('health, readiness and metrics requests are logged at debug', () => {
  it('an info log shows other requests but none of them', async () => {
    const byUrl = await loggedUrls({ logLevel: 'info' });
    // The capture works: an ordinary request is there, incoming and completed.
    expect(byUrl.get('/lobbies')?.map((line) => line.msg)).toEqual([
      'incoming request',
      'request completed',
    ]);
    for (const path of PROBES) expect(byUrl.get(path), path).toBeUndefined();
  });

  it('a debug log shows them, at debug', async () => {
    const byUrl = await loggedUrls({ logLevel: 'debug' });
    for (const path of PROBES) {
      const lines = byUrl.get(path) ?? [];
      expect(
        lines.map((line) => line.msg),
        path,
      ).toEqual(['incoming request', 'request completed']);
      // pino's debug level is 20.
      expect(new Set(lines.map((line) => line.level)), path).toEqual(new Set([20]));
    }
  });

  it('on a separate admin port too', async () => {
    const byUrl = await loggedUrls({ logLevel: 'info', adminPort: 0 });
    expect(byUrl.get('/lobbies')).toBeDefined();
    for (const path of PROBES) expect(byUrl.get(path), path).toBeUndefined();
  });
});
