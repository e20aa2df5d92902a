/**
 * Property-based fuzz of the real message path: a real server in this
 * process (inline lobbies, small ones), real WebSockets on 127.0.0.1, and
 * fast-check cases of 1-3 concurrent connections sending hostile message
 * sequences (test/fuzz/fuzz-case.ts). Each case must leave every connection
 * open or closed with a documented code and a reason that fits a close
 * frame, every reply well-formed, the server alive and /healthz at 200
 * (test/fuzz/case-runner.ts). Meanwhile a bystander in its own lobby must
 * keep getting >= 55 frames/s over the whole run.
 *
 * In production an exception thrown inside a socket handler kills the
 * process; here it would only be an "unhandled error" vitest reports at
 * the end. So for the duration of the run this file takes the process's
 * uncaughtException/unhandledRejection listeners (restoring vitest's
 * afterwards) and turns any such exception into a failure of the case
 * that caused it, which fast-check then shrinks.
 *
 * SWARMHOST_FUZZ_CASES (default 1000), SWARMHOST_FUZZ_SEED and
 * SWARMHOST_FUZZ_PATH (both printed on failure) replay a run or a case.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Bystander, joinBystander } from '../support/bystander.js';
import { startServer, type TestServer } from '../support/server.js';
import type { FuzzLimits } from './arbitraries.js';
import { checkCase, type FuzzTarget, ShrinkFocus } from './case-runner.js';
import { caseArbitrary } from './fuzz-case.js';

const CASES = positiveInt('SWARMHOST_FUZZ_CASES', 1000);
const SEED = process.env.SWARMHOST_FUZZ_SEED
  ? Number(process.env.SWARMHOST_FUZZ_SEED)
  : (Date.now() ^ (Math.random() * 0x1_0000_0000)) | 0;
const PATH = process.env.SWARMHOST_FUZZ_PATH || undefined;
/** The run stops (and, if it failed, reports what it shrank to so far) after this long. */
const TIME_LIMIT_MS = 150_000;

let server: TestServer;
let bystander: Bystander;
const faults: string[] = [];
const onFault = (error: unknown) => {
  faults.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
};
const EVENTS = ['uncaughtException', 'unhandledRejection'] as const;
const saved = new Map<string, NodeJS.UncaughtExceptionListener[]>();

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return n;
}

beforeAll(async () => {
  if (!Number.isSafeInteger(SEED))
    throw new Error(
      `SWARMHOST_FUZZ_SEED must be an integer, got '${process.env.SWARMHOST_FUZZ_SEED}'`,
    );
  // Small lobbies (cheap inline ticks, spawns soon hit the cap) and a small
  // inbox, so floods of inputs reach inbox_full.
  server = await startServer({
    workers: 0,
    defaultParticles: 200,
    maxParticles: 1000,
    inboxCapacity: 64,
  });
  bystander = await joinBystander(server);
  for (const event of EVENTS) {
    saved.set(event, process.listeners(event as 'uncaughtException'));
    process.removeAllListeners(event);
    process.on(event as 'uncaughtException', onFault);
  }
});

afterAll(async () => {
  for (const event of EVENTS) {
    process.removeListener(event, onFault);
    for (const listener of saved.get(event) ?? [])
      process.on(event as 'uncaughtException', listener);
  }
  bystander?.close();
  await server?.close();
});

it(
  'no message sequence kills the server, breaks a close rule or disturbs another lobby',
  async () => {
    const { config } = server.app;
    const limits: FuzzLimits = {
      maxMessageBytes: config.maxMessageBytes,
      worldSize: config.worldSize,
      maxSpawn: config.maxSpawn,
    };
    const target: FuzzTarget = {
      http: server.http,
      fault: () => {
        if (faults.length > 0) return `uncaught exception (the process would exit): ${faults[0]}`;
        if (bystander.client.closeCode !== undefined)
          return `the bystander was closed with ${bystander.client.closeCode}`;
        return undefined;
      },
    };
    let cases = 0;
    let messages = 0;
    const focus = new ShrinkFocus();
    bystander.mark();
    const started = performance.now();
    const details = await fc.check(
      fc.asyncProperty(caseArbitrary(limits), async (fuzzCase) => {
        // Each case answers for its own faults (shrinking re-runs cases).
        faults.length = 0;
        cases++;
        messages += await checkCase(target, fuzzCase, { lobbyPrefix: 'fuzz' }, focus);
      }),
      {
        numRuns: CASES,
        seed: SEED,
        path: PATH,
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        markInterruptAsFailure: true,
        includeErrorInReport: true,
      },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `fuzz: ${cases} cases, ${messages} messages in ${seconds.toFixed(1)} s ` +
        `(${(cases / seconds).toFixed(0)} cases/s, ${(messages / seconds).toFixed(0)} messages/s), seed ${SEED}`,
    );
    if (details.failed) {
      const replay = `SWARMHOST_FUZZ_SEED=${details.seed} SWARMHOST_FUZZ_PATH=${details.counterexamplePath ?? ''}`;
      throw new Error(
        `${fc.defaultReportMessage(details)}\n\nReplay: ${replay} npx vitest run test/fuzz/message-path.test.ts`,
      );
    }
    expect(details.numRuns).toBe(PATH ? details.numRuns : CASES);
    await bystander.expectUndisturbed();
  },
  TIME_LIMIT_MS + 30_000,
);
