/**
 * What one fuzz case does over sockets, as data, and its arbitraries: a case
 * is 1-3 connections run at once, each to one of a few lobbies, each a
 * sequence of steps. A step is bytes for the TCP socket (one or more
 * WebSocket frames built by hand, so they go out even after the server has
 * closed), a pause that lets the server act first, or a flood that trips the
 * rate limiter. The driver that runs a case and checks it is case-runner.ts.
 */
import fc from 'fast-check';
import { encodeMessage } from '../../protocol/envelope.js';
import {
  binaryPayload,
  type FuzzLimits,
  helloPayload,
  hostileString,
  invalidUtf8,
  type Payload,
} from './arbitraries.js';
import { hex, wtf8 } from '../support/msgpack-bytes.js';
import {
  closeFrame,
  concat,
  encodeFrame,
  fragmentedMessage,
  messageFrame,
  Opcode,
} from '../support/ws-frames.js';

export type Step =
  | {
      kind: 'send';
      /** Bytes written to the TCP socket as they are: whole WebSocket frames. */
      wire: Uint8Array;
      note: string;
      /** Messages this step carries (for throughput counts). */
      messages: number;
      /** The close code this step sends in a close frame (1005: a close frame without a code). */
      clientClose?: number;
    }
  | { kind: 'pause'; ms: number }
  /** `count` pings or inputs back to back: the rate limiter's and the lobby inbox's paths. */
  | { kind: 'flood'; count: number; message: FloodMessage };

export interface SessionPlan {
  /** Index into the fuzz lobbies (the runner names them). */
  lobby: number;
  /** Send a valid hello before the steps, so most sessions reach the joined state. */
  helloFirst: boolean;
  steps: Step[];
}

export interface FuzzCase {
  sessions: SessionPlan[];
}

/** Lobbies a case may use: a few, so cases share lobbies and lobby creation is exercised too. */
export const FUZZ_LOBBIES = 3;

/** Gives a step the text fast-check prints for it in a counterexample. */
const show = <T extends object>(value: T, text: string | (() => string)): T =>
  Object.assign(value, { [fc.toStringMethod]: typeof text === 'string' ? () => text : text });

/** A send step; its note is built only if the step is printed. */
function send(
  wire: Uint8Array,
  note: string | (() => string),
  messages = 1,
  clientClose?: number,
): Step {
  let text = typeof note === 'string' ? note : undefined;
  const describe = () => (text ??= (note as () => string)());
  const step = { kind: 'send' as const, wire, messages, clientClose };
  Object.defineProperty(step, 'note', { get: describe, enumerable: false });
  return show(step as Step, () => `send ${describe()} [${wire.length} B on the wire]`);
}

const describePayload = (p: Payload): string =>
  `${p.note} (${p.bytes.length} B: ${hex(p.bytes, 128)})`;

const binaryStep = (limits: FuzzLimits) =>
  binaryPayload(limits).map((p) =>
    send(messageFrame(p.bytes), () => `binary ${describePayload(p)}`),
  );

/** Text messages: the protocol is binary only (1003), and bad UTF-8 is ws's 1007. */
const textStep = (limits: FuzzLimits) =>
  fc
    .oneof(
      hostileString.map((s) => ({ bytes: wtf8(s), note: () => JSON.stringify(s.slice(0, 40)) })),
      invalidUtf8.map((bytes) => ({ bytes, note: () => 'invalid UTF-8' })),
      binaryPayload(limits).map((p) => ({ bytes: p.bytes, note: () => `msgpack: ${p.note}` })),
    )
    .map(({ bytes, note }) =>
      send(
        messageFrame(bytes, false),
        () => `text ${note()} (${bytes.length} B: ${hex(bytes, 24)})`,
      ),
    );

const helloStep = fc
  .oneof({ weight: 5, arbitrary: fc.constant(1) }, fc.constantFrom(0, 2, -1, 65536))
  .map((v) => {
    const p = helloPayload(v === 1 ? undefined : v);
    return send(messageFrame(p.bytes), () => p.note);
  });

const maskKey = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));

/** Frames a client library would not send: each is ws's own protocol error (1002/1007/1009) or a legal oddity. */
function frameStep(limits: FuzzLimits): fc.Arbitrary<Step> {
  const small = fc.uint8Array({ maxLength: 16 });
  return fc.oneof(
    fc
      .tuple(
        binaryPayload(limits),
        fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
      )
      .map(([p, cuts, pingBetween]) =>
        send(
          fragmentedMessage(
            p.bytes,
            cuts.map((c) => c % (p.bytes.length + 1)),
            { pingBetween },
          ),
          () => `fragmented binary ${describePayload(p)}${pingBetween ? ' + ping between' : ''}`,
        ),
      ),
    fc
      .tuple(fc.constantFrom(3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf), small)
      .map(([opcode, payload]) =>
        send(encodeFrame({ opcode, payload }), `reserved opcode ${opcode}`),
      ),
    fc
      .tuple(fc.integer({ min: 1, max: 7 }), small)
      .map(([rsv, payload]) =>
        send(encodeFrame({ opcode: Opcode.binary, rsv, payload }), `RSV bits ${rsv}`),
      ),
    small.map((payload) =>
      send(encodeFrame({ opcode: Opcode.binary, payload, masked: false }), 'unmasked frame'),
    ),
    small.map((payload) =>
      send(encodeFrame({ opcode: Opcode.continuation, payload }), 'continuation without a start'),
    ),
    fc
      .uint8Array({ minLength: 126, maxLength: 200 })
      .map((payload) =>
        send(encodeFrame({ opcode: Opcode.ping, payload }), `${payload.length} B ping`),
      ),
    small.map((payload) =>
      send(encodeFrame({ opcode: Opcode.ping, payload, fin: false }), 'fragmented ping'),
    ),
    fc
      .tuple(fc.constantFrom(Opcode.ping, Opcode.pong), fc.uint8Array({ maxLength: 125 }), maskKey)
      .map(([opcode, payload, key]) =>
        send(
          encodeFrame({ opcode, payload, maskKey: key }),
          `${opcode === Opcode.ping ? 'ping' : 'pong'} ${payload.length} B`,
          0,
        ),
      ),
    fc
      .tuple(binaryPayload(limits), fc.constantFrom('16' as const, '64' as const), maskKey)
      .map(([p, lengthForm, key]) =>
        send(
          encodeFrame({ opcode: Opcode.binary, payload: p.bytes, lengthForm, maskKey: key }),
          () => `binary with ${lengthForm}-bit length: ${describePayload(p)}`,
        ),
      ),
    // A length the server refuses from the header alone (so no payload has to follow).
    fc
      .constantFrom(
        BigInt(limits.maxMessageBytes + 1),
        2n ** 32n,
        2n ** 53n,
        2n ** 63n,
        2n ** 64n - 1n,
      )
      .map((claimedLength) =>
        send(
          encodeFrame({ opcode: Opcode.binary, payload: new Uint8Array(0), claimedLength }),
          `header claiming ${claimedLength} B`,
        ),
      ),
    fc
      .tuple(
        fc.oneof(
          fc.constantFrom(1000, 1001, 1003, 1008, 1011, 3000, 4000, 4999),
          fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535),
          fc.integer({ min: 0, max: 65535 }),
        ),
        fc.oneof(
          hostileString.map((s) => wtf8(s).subarray(0, 123)),
          invalidUtf8,
        ),
      )
      .map(([code, reason]) =>
        send(
          closeFrame(code, reason),
          () => `close frame ${code} reason ${hex(reason, 16)}`,
          0,
          code,
        ),
      ),
    fc.constant(
      send(closeFrame(undefined, new Uint8Array(0)), 'close frame without a code', 0, 1005),
    ),
    fc.constant(
      send(
        encodeFrame({ opcode: Opcode.close, payload: new Uint8Array([3]) }),
        'close frame of 1 byte',
        0,
        1005,
      ),
    ),
  );
}

export type FloodMessage = 'ping' | 'input';
const FLOOD_FRAMES: Record<FloodMessage, Uint8Array> = {
  ping: messageFrame(encodeMessage({ t: 'ping', id: 7 })),
  input: messageFrame(encodeMessage({ t: 'input', seq: 7, x: 500, y: 500, mode: 'attract' })),
};

/** The wire bytes of a flood step: `count` messages in one write. */
export const floodWire = (count: number, message: FloodMessage): Uint8Array =>
  concat(Array.from({ length: count }, () => FLOOD_FRAMES[message]));

export function stepArbitrary(limits: FuzzLimits): fc.Arbitrary<Step> {
  return fc.oneof(
    { weight: 12, arbitrary: binaryStep(limits) },
    { weight: 2, arbitrary: helloStep },
    { weight: 1, arbitrary: textStep(limits) },
    { weight: 3, arbitrary: frameStep(limits) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 0, max: 25 })
        .map((ms) => show({ kind: 'pause', ms } as Step, `pause ${ms} ms`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: 600 }), fc.constantFrom<FloodMessage>('ping', 'input'))
        .map(([count, message]) =>
          show({ kind: 'flood', count, message } as Step, `flood of ${count} ${message}s`),
        ),
    },
  );
}

export function sessionArbitrary(limits: FuzzLimits): fc.Arbitrary<SessionPlan> {
  return fc.record({
    lobby: fc.nat(FUZZ_LOBBIES - 1),
    helloFirst: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
    steps: fc.array(stepArbitrary(limits), { maxLength: 8 }),
  });
}

export function caseArbitrary(limits: FuzzLimits): fc.Arbitrary<FuzzCase> {
  const session = sessionArbitrary(limits);
  // First session and the others apart: fast-check then tries dropping all
  // the others after shrinking the first, which one array would not.
  return fc
    .tuple(session, fc.array(session, { maxLength: 2 }))
    .map(([first, others]) => ({ sessions: [first, ...others] }));
}

/** Messages a case sends (valid or not), for throughput. */
export function messagesIn(fuzzCase: FuzzCase): number {
  let n = 0;
  for (const session of fuzzCase.sessions) {
    if (session.helloFirst) n++;
    for (const step of session.steps) {
      if (step.kind === 'send') n += step.messages;
      else if (step.kind === 'flood') n += step.count;
    }
  }
  return n;
}
