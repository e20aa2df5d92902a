import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

describe('smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server.close());

  it('joins and receives frames', async () => {
    const a = await joinLobby(server, 'demo');
    expect(a.welcome?.lobbyId).toBe('demo');
    await waitFor(() => a.frames > 30, 5000, '30 frames');
    expect(a.decoder!.count).toBe(10_000);
    console.log(
      'frames',
      a.frames,
      'keyframes',
      a.keyframes,
      'bytes',
      a.bytesReceived,
      'bpp',
      a.bytesReceived / a.frames / 10000,
    );
    a.close();
  });
});
