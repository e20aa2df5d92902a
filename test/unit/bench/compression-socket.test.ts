import { describe, expect, it } from 'vitest';
import { buildCorpus, frameMessage, wsHeaderBytes } from '../../../bench/compression/corpus.js';
import { deflateSettings, measureSocket } from '../../../bench/compression/socket-bench.js';

const corpus = buildCorpus({
  particles: 2000,
  worldSize: 1000,
  maxParticles: 2000,
  seed: 3,
  tickRate: 60,
  flockTicks: 5,
  deltas: 4,
  gapDeltas: 1,
  keyframes: 1,
});

describe('bench:compression over real sockets', () => {
  it('counts exactly the frame messages and their WebSocket headers when permessage-deflate is off', async () => {
    const [off] = deflateSettings([1]);
    const result = await measureSocket(off, 2, 2000, corpus.sets.key[0], corpus.sets.delta60);
    // The ack (the client index) is a fixint in both: every client's message is as long.
    const expected =
      corpus.sets.delta60
        .map((f) => frameMessage(f, 2000, f.data, 0).byteLength)
        .reduce((sum, n) => sum + n + wsHeaderBytes(n), 0) / corpus.sets.delta60.length;
    expect(result).toMatchObject({ setting: 'pmd off', clients: 2 });
    expect(result.wireBytesPerFrame).toBeCloseTo(expected, 6);
    expect(result.serverCpuP50Ms).toBeGreaterThan(0);
  }, 30_000);

  it('negotiates permessage-deflate when asked, and the clients get every message whole', async () => {
    const [, takeover] = deflateSettings([1]);
    // measureSocket throws if the extension was not negotiated or a client
    // got other bytes than were sent.
    const result = await measureSocket(takeover, 2, 2000, corpus.sets.key[0], corpus.sets.delta60);
    expect(result.wireBytesPerFrame).toBeGreaterThan(0);
  }, 30_000);
});
