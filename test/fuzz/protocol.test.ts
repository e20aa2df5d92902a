/**
 * Property tests of the protocol's two entry points for client bytes, no
 * sockets: `decodeMessage` and `parseClientMessage` never throw, whatever
 * they are given, and every reason they give back is bounded (it may end up
 * in a close frame: at most 123 UTF-8 bytes) and printable (well-formed
 * UTF-16, no control characters), because reasons quote client data.
 * 100k+ cases in all; SWARMHOST_FUZZ_SEED replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../protocol/envelope.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { parseClientMessage } from '../../protocol/messages.js';
import { binaryPayload, type FuzzLimits } from './arbitraries.js';
import { MAX_CLOSE_REASON_BYTES } from './case-runner.js';

const LIMITS: FuzzLimits = { maxMessageBytes: 4096, worldSize: 1000, maxSpawn: 500 };
const SEED = process.env.SWARMHOST_FUZZ_SEED ? Number(process.env.SWARMHOST_FUZZ_SEED) : undefined;
const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));
const KNOWN_TYPES = new Set(['hello', 'ping', 'input', 'spawn', 'stats', 'rate', 'view']);

/** Raw bytes: random, and every family of hostile msgpack. */
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 48 }),
  binaryPayload(LIMITS).map((p) => p.bytes),
);

/** JS values msgpack never yields too: parseClientMessage must not care where a value came from. */
const anyValue = fc.oneof(
  fc.anything({
    maxDepth: 2,
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
  }),
  fc.record({ t: fc.anything(), seq: fc.anything(), x: fc.anything(), v: fc.anything() }),
  fc.record({
    t: fc.constantFrom('stats'),
    fps: fc.anything(),
    received: fc.anything(),
    skipped: fc.anything(),
    decodeMs: fc.double(),
    rttMs: fc.anything(),
    latencyMs: fc.oneof(fc.double(), fc.constant(null)),
  }),
  fc.record({
    t: fc.constantFrom('hello', 'ping', 'input', 'spawn', 'rate', 'view'),
    w: fc.anything(),
    h: fc.double(),
    hz: fc.anything(),
    seq: fc.anything(),
    id: fc.anything(),
    x: fc.double(),
    y: fc.anything(),
    count: fc.anything(),
    mode: fc.anything(),
    v: fc.anything(),
  }),
);

/** Why a reason is unfit to send, or undefined if it is fine. */
function reasonProblem(reason: unknown): string | undefined {
  if (typeof reason !== 'string') return `not a string: ${typeof reason}`;
  const size = Buffer.byteLength(reason);
  if (size > MAX_CLOSE_REASON_BYTES) return `${size} UTF-8 bytes (max ${MAX_CLOSE_REASON_BYTES})`;
  // With the u flag a surrogate pair is one code point, so \p{Cs} only matches lone halves.
  const bad = /[\p{Cc}\p{Cs}]/u.exec(reason);
  if (bad) return `unprintable U+${bad[0].codePointAt(0)!.toString(16).padStart(4, '0')}`;
  return undefined;
}

const check = (property: fc.IAsyncProperty<[unknown]> | fc.IProperty<[unknown]>, numRuns: number) =>
  fc.assert(property, { numRuns, seed: SEED, includeErrorInReport: true });

/** parseClientMessage's answer to `value` must be a known message or a known code with a fit reason. */
function checkParsed(value: unknown): void {
  const parsed = parseClientMessage(value, LIMITS);
  if (parsed.ok) {
    expect(KNOWN_TYPES.has(parsed.message.t)).toBe(true);
    return;
  }
  expect(ERROR_CODES.has(parsed.code)).toBe(true);
  const problem = reasonProblem(parsed.reason);
  if (problem) throw new Error(`parse reason ${JSON.stringify(parsed.reason)}: ${problem}`);
  if (parsed.seq !== undefined) expect(Number.isInteger(parsed.seq)).toBe(true);
}

describe('protocol entry points under arbitrary input', () => {
  it('bytes -> decodeMessage -> parseClientMessage: never throws, reasons bounded and printable', () => {
    check(
      fc.property(bytes, (input) => {
        const decoded = decodeMessage(input as Uint8Array);
        if (decoded.ok) return checkParsed(decoded.value);
        const problem = reasonProblem(decoded.reason);
        if (problem) throw new Error(`decode reason ${JSON.stringify(decoded.reason)}: ${problem}`);
      }),
      100_000,
    );
  }, 60_000);

  it('parseClientMessage never throws on any JS value either', () => {
    check(fc.property(anyValue, checkParsed), 20_000);
  }, 60_000);
});
