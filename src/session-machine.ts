/**
 * A client connection's lifecycle (xstate v5):
 *
 *   awaitingHello ─HELLO─▶ joined ─CLOSED─▶ closed
 *        └─(hello timeout)─▶ timedOut
 *
 * Only phase changes are events; frames and inputs never go through the
 * machine. The hello timeout lives here so it is cancelled by leaving the
 * state, whatever the reason.
 */
import { setup } from 'xstate';

export const sessionMachine = setup({
  types: {
    context: {} as { helloTimeoutMs: number },
    input: {} as { helloTimeoutMs: number },
    events: {} as { type: 'HELLO' } | { type: 'CLOSED' },
  },
  delays: {
    helloTimeout: ({ context }) => context.helloTimeoutMs,
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({ helloTimeoutMs: input.helloTimeoutMs }),
  initial: 'awaitingHello',
  states: {
    awaitingHello: {
      on: { HELLO: 'joined', CLOSED: 'closed' },
      after: { helloTimeout: 'timedOut' },
    },
    joined: {
      on: { CLOSED: 'closed' },
    },
    timedOut: { type: 'final' },
    closed: { type: 'final' },
  },
});
