/**
 * `npm run bench:compression`: does compressing frames pay? (issue #14)
 *
 * Frames come from a lobby-default world (bench/compression/corpus.ts)
 * through protocol/'s encoders, so the bench measures whatever wire format
 * protocol/index.ts exports. Then:
 * - per-frame codecs (node:zlib deflate raw, brotli, zstd where this Node
 *   has it), compressed once per payload and shared by a lobby's clients:
 *   bytes per particle and compress/decompress time (per-frame.ts);
 * - permessage-deflate over a real `ws` server and N client sockets in a
 *   child process, context takeover on and off: bytes on the wire and
 *   server/client CPU per frame per client (socket-bench.ts);
 * - both multiplied out to a fan-out target, with a verdict (report.ts).
 * Run it on Node 24 too (zstd): see the usage text.
 */
import { cpus, loadavg } from 'node:os';
import { defaultConfig } from '../src/config.js';
import { optionsHelp, readOptions, runMain } from './cli-options.js';
import { nodeZstd, perFrameCodecs } from './compression/codecs.js';
import { buildCorpus } from './compression/corpus.js';
import { measurePerFrame } from './compression/per-frame.js';
import {
  type FanoutRow,
  type FanoutTarget,
  fanoutTable,
  verdictText,
  perFrameRow,
  perFrameTable,
  socketRow,
  socketTable,
  VERDICT_RULE,
} from './compression/report.js';
import { deflateSettings, measureSocket, type SocketResult } from './compression/socket-bench.js';

const CONFIG = defaultConfig();
/** A fixed seed: the same frames on every run and machine. */
const SEED = 1;

const OPTIONS = {
  particles: {
    kind: 'int',
    arg: 'P',
    default: CONFIG.defaultParticles,
    min: 1,
    max: 1_000_000,
    doc: 'particles in the lobby (the lobby default)',
  },
  flock: {
    kind: 'int',
    arg: 'T',
    default: 600,
    min: 0,
    max: 100_000,
    doc: 'ticks flocked before the first frame (a fresh world is noise)',
  },
  deltas: {
    kind: 'int',
    arg: 'N',
    default: 300,
    min: 10,
    max: 10_000,
    doc: 'consecutive 60 Hz deltas (also what the sockets send)',
  },
  'gap-deltas': {
    kind: 'int',
    arg: 'N',
    default: 60,
    min: 1,
    max: 10_000,
    doc: 'deltas with a 2- and a 4-tick gap each (clients at 30 and 15 Hz)',
  },
  keyframes: { kind: 'int', arg: 'N', default: 20, min: 1, max: 1000, doc: 'keyframes' },
  repeats: {
    kind: 'int',
    arg: 'R',
    default: 3,
    min: 1,
    max: 100,
    doc: 'timed calls per payload and codec',
  },
  'deflate-levels': {
    kind: 'intList',
    arg: 'a,b',
    default: [1, 6],
    min: 0,
    max: 9,
    doc: 'zlib levels, per frame and for permessage-deflate',
  },
  'brotli-qualities': {
    kind: 'intList',
    arg: 'a,b',
    default: [1, 2, 3, 4],
    min: 0,
    max: 11,
    doc: 'brotli qualities (per frame)',
  },
  'zstd-levels': {
    kind: 'intList',
    arg: 'a,b',
    default: [1, 3],
    min: 1,
    max: 22,
    doc: 'zstd levels (per frame; Node >= 22.15 only)',
  },
  clients: {
    kind: 'intList',
    arg: 'a,b',
    default: [1, 10, 100],
    min: 1,
    max: 1000,
    doc: 'client sockets per permessage-deflate run (the largest count is multiplied out)',
  },
  'fanout-clients': {
    kind: 'int',
    arg: 'F',
    default: 1000,
    min: 1,
    max: 1_000_000,
    doc: 'clients the costs are multiplied out to',
  },
  'clients-per-lobby': {
    kind: 'int',
    arg: 'C',
    default: CONFIG.maxClientsPerLobby,
    min: 1,
    max: 1_000_000,
    doc: 'clients sharing one per-frame compression (lobbies full: the lobby cap)',
  },
} as const;

const USAGE = `Usage: npm run bench:compression -- [options]

Does compressing frames pay? Builds a lobby-default world, flocks it, and
encodes keyframes and 60/30/15 Hz deltas with protocol/'s encoders; then
measures, in this process, per-frame deflate raw, brotli and (on Node >=
22.15) zstd: bytes per particle and compress/decompress time p50; then
permessage-deflate over a real ws server on 127.0.0.1 with clients in a
child process: wire bytes and server/client CPU per frame per client.
Last, every option multiplied out to the fan-out target, with a verdict
(saves >= ${VERDICT_RULE.MIN_SAVING * 100}% of 60 Hz delta bytes, <= ${VERDICT_RULE.MAX_SERVER_CORES} cores at the target,
<= ${VERDICT_RULE.MAX_CLIENT_MS} ms per frame on the client). For zstd, run it on Node 24:
  node --import tsx bench/compression.ts [options]   (with Node 24's node)

${optionsHelp(OPTIONS)}`;

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), OPTIONS);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const o = options.values;
  const target: FanoutTarget = {
    clients: o['fanout-clients'],
    clientsPerLobby: o['clients-per-lobby'],
    rateHz: CONFIG.sendRate,
  };
  console.log(
    `# bench:compression  node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0].toFixed(2)}, zstd ${nodeZstd() ? 'yes' : 'no (Node < 22.15)'}`,
  );
  console.log(
    `# ${o.particles} particles, world ${CONFIG.worldSize}, seed ${SEED}, flocked ${o.flock} ticks; ${o.deltas} 60 Hz deltas, ${o['gap-deltas']} each at 30/15 Hz, ${o.keyframes} keyframes\n`,
  );

  const corpus = buildCorpus({
    particles: o.particles,
    worldSize: CONFIG.worldSize,
    maxParticles: Math.max(o.particles, CONFIG.maxParticles),
    seed: SEED,
    tickRate: CONFIG.tickRate,
    flockTicks: o.flock,
    deltas: o.deltas,
    gapDeltas: o['gap-deltas'],
    keyframes: o.keyframes,
  });

  const codecs = perFrameCodecs({
    deflateLevels: o['deflate-levels'],
    brotliQualities: o['brotli-qualities'],
    zstdLevels: o['zstd-levels'],
  });
  const perFrame = measurePerFrame(corpus, codecs, o.repeats);
  console.log('## Per-frame compression (one payload, shared by the clients in step)\n');
  console.log(perFrameTable(perFrame));
  console.log(
    '\nB/particle: the frame message (per-client header over the payload) plus its WebSocket header, over the particle count; ratio against none.\n',
  );

  const socket: SocketResult[] = [];
  for (const clients of o.clients)
    for (const setting of deflateSettings(o['deflate-levels']))
      socket.push(
        await measureSocket(setting, clients, o.particles, corpus.sets.key[0], corpus.sets.delta60),
      );
  console.log('## permessage-deflate over real sockets (60 Hz deltas, after a keyframe)\n');
  console.log(socketTable(socket, o.particles));
  console.log(
    '\nServer CPU: process.cpuUsage over one frame sent to every client until ws reports it written (deflate on the libuv pool included), over the clients. Client CPU: the clients process, receive and inflate included.\n',
  );

  const none = perFrame[0];
  const rows: FanoutRow[] = perFrame.map((r) => perFrameRow(r, none, o.particles, target));
  const most = Math.max(...o.clients);
  const atMost = socket.filter((r) => r.clients === most);
  for (const r of atMost) rows.push(socketRow(r, atMost[0], target));
  console.log(
    `## At ${target.clients} clients × ${target.rateHz} Hz (${target.clientsPerLobby} per lobby: ${Math.ceil(target.clients / target.clientsPerLobby)} lobbies of ${o.particles} particles)\n`,
  );
  console.log(fanoutTable(rows, target));
  console.log(
    `\nPer-frame: one compression per lobby frame (clients in step), its p50 × lobbies × ${target.rateHz} Hz. permessage-deflate: per client, its server CPU p50 minus pmd off's (${most} clients), × clients × ${target.rateHz} Hz. Client: decompress p50 (per-frame) or clients-process CPU minus pmd off's (pmd).`,
  );
  console.log(`\n## Verdict\n\n${verdictText(rows, target)}`);
  return 0;
}

runMain('bench:compression', main);
