/**
 * LobbyClient.pingSample: the pong's server clock and the round trip come
 * back together (the browser's clock offset estimate needs both); a socket
 * that closes first settles every waiting ping.
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../protocol/envelope.js';
import { LobbyClient, type SocketLike } from '../../../protocol/lobby-client.js';

function fakeClient() {
  const sent: Uint8Array[] = [];
  const listeners = new Map<string, (event: never) => void>();
  const socket: SocketLike = {
    binaryType: 'arraybuffer',
    readyState: 1,
    send: (data) => sent.push(data),
    close: () => {},
    addEventListener: (type, listener) => listeners.set(type, listener),
  };
  const deliver = (message: object) =>
    (listeners.get('message') as (event: { data: Uint8Array }) => void)({
      data: encodeMessage(message),
    });
  const close = () =>
    (listeners.get('close') as (event: { code: number; reason: string }) => void)({
      code: 1006,
      reason: '',
    });
  const pingIds = () =>
    sent
      .map((bytes) => decodeMessage(bytes))
      .flatMap((d) => (d.ok && (d.value as { t: string }).t === 'ping' ? [d.value] : []))
      .map((m) => (m as { id: number }).id);
  return { client: new LobbyClient(socket), deliver, close, pingIds };
}

describe('LobbyClient.pingSample', () => {
  it("resolves with the pong's serverTime and a round trip inside the time it waited", async () => {
    const { client, deliver, pingIds } = fakeClient();
    const before = performance.now();
    const first = client.pingSample();
    const second = client.pingSample();
    const [a, b] = pingIds();
    // Answered out of order: each pong settles its own ping.
    deliver({ t: 'pong', id: b, serverTime: 2_000.25 });
    deliver({ t: 'pong', id: a, serverTime: 1_000.5 });
    const after = performance.now();
    const [one, two] = await Promise.all([first, second]);
    expect(one?.serverTime).toBe(1_000.5);
    expect(two?.serverTime).toBe(2_000.25);
    for (const sample of [one!, two!]) {
      expect(sample.sentAt).toBeGreaterThanOrEqual(before);
      expect(sample.receivedAt).toBeLessThanOrEqual(after);
      expect(sample.rttMs).toBe(sample.receivedAt - sample.sentAt);
    }
  });

  it('settles with undefined (and ping() with NaN) when the socket closes first', async () => {
    const { client, close } = fakeClient();
    const sample = client.pingSample();
    const rtt = client.ping();
    close();
    expect(await sample).toBeUndefined();
    expect(await rtt).toBeNaN();
  });
});
