/**
 * The V8 flags the server is started with in production: `npm start`, the
 * image's CMD and the systemd unit in docs/DEPLOY.md all pass exactly these
 * (test/unit/node-flags.test.ts holds them to it), and the benchmarks'
 * compiled server (bench/server-process.ts) does too, so that what is
 * measured is what ships.
 *
 * `--max-semi-space-size=2` (MiB; V8's default on 64-bit grows to 16): a
 * small young generation is scavenged often, so the frames the server
 * encodes every tick, whose bytes live outside the heap and are freed only
 * when their small JS objects are collected, are let go within a few ticks
 * rather than piling up until a full GC. Measured with a 100k-particle
 * lobby serving 10 clients (docs/BENCHMARKS.md): instance RSS 147-162 MiB
 * throughout, against a climb to 200-220 MiB in the first seconds and
 * 172-212 after without it; no measurable CPU cost there or in
 * bench:fanout. Set per process, not per thread: V8 takes it at start, for
 * the main thread's heap too, which no code can resize later.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
