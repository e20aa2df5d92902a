import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../../protocol/close-codes.js';
import { LOBBY_PHASE_RULES, LOBBY_PHASES } from '../../../protocol/lobby-phase.js';

describe('LOBBY_PHASE_RULES', () => {
  it('has a rule for every phase and no other', () => {
    expect(Object.keys(LOBBY_PHASE_RULES).sort()).toEqual([...LOBBY_PHASES].sort());
  });

  it('a restarting lobby takes joins but not inputs (no world to apply them to)', () => {
    expect(LOBBY_PHASE_RULES.restarting).toMatchObject({
      acceptsJoins: true,
      acceptsInputs: false,
    });
    expect(LOBBY_PHASE_RULES.restarting.closesClients).toBeUndefined();
  });

  it('a draining lobby keeps its players playing but takes no one new, and sends them elsewhere', () => {
    expect(LOBBY_PHASE_RULES.draining).toMatchObject({ acceptsJoins: false, acceptsInputs: true });
    expect(LOBBY_PHASE_RULES.draining.closesClients?.code).toBe(CloseCode.draining);
  });

  it('only closed, failed and the two ends of a hand-over have ended, and none takes anything', () => {
    const ended = LOBBY_PHASES.filter((phase) => LOBBY_PHASE_RULES[phase].ended);
    expect(ended).toEqual(['closed', 'failed', 'moved', 'drained']);
    for (const phase of ended) {
      expect(LOBBY_PHASE_RULES[phase]).toMatchObject({ acceptsJoins: false, acceptsInputs: false });
    }
    expect(LOBBY_PHASE_RULES.failed.closesClients?.code).toBe(CloseCode.internalError);
  });

  it('a lobby handing over is frozen but keeps its clients; moved and drained send them elsewhere', () => {
    expect(LOBBY_PHASE_RULES.handingOver).toEqual({
      acceptsJoins: false,
      acceptsInputs: false,
      ended: false,
    });
    expect(LOBBY_PHASE_RULES.moved.closesClients).toEqual({
      code: CloseCode.moved,
      reason: 'lobby moved to another instance: reconnect now',
    });
    expect(LOBBY_PHASE_RULES.drained.closesClients?.code).toBe(CloseCode.draining);
  });

  it('every phase that closes clients gives a reason that fits a close frame', () => {
    for (const phase of LOBBY_PHASES) {
      const closes = LOBBY_PHASE_RULES[phase].closesClients;
      if (closes) expect(Buffer.byteLength(closes.reason)).toBeLessThanOrEqual(123);
    }
  });
});
