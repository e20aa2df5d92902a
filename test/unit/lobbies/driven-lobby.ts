/**
 * Lobbies driven by hand for the checkpoint tests: an inline host on a
 * FakeClock (every message structured-cloned, as a thread boundary would),
 * the frames and notices its handle hears, and a way to run exact ticks.
 */
import { expect } from 'vitest';
import { FakeClock } from '../../../lobbies/fake-clock.js';
import type { LobbyHandle, LobbyNotice } from '../../../lobbies/lobby-handle.js';
import { InlineLobbyHost, NO_RESTARTS } from '../../../lobbies/lobby-host.js';
import type { FrameEvent, LobbySettings } from '../../../lobbies/lobby-messages.js';
import type { RestartPolicy } from '../../../lobbies/supervisor.js';

export const STEP_MS = 1000 / 60;

export function lobbySettings(overrides: Partial<LobbySettings> = {}): LobbySettings {
  return {
    id: 'cp',
    seed: 42,
    particles: 400,
    maxParticles: 2000,
    worldSize: 1000,
    tickRate: 60,
    maxCatchUpSteps: 4,
    idleTimeoutMs: 60_000,
    inboxCapacity: 16,
    closeGraceMs: 1000,
    ...overrides,
  };
}

export interface DrivenLobby {
  clock: FakeClock;
  host: InlineLobbyHost;
  handle: LobbyHandle;
  frames: FrameEvent[];
  notices: LobbyNotice[];
  /** Advances the clock ms by ms until `n` more frames have been published. */
  ticks(n: number): void;
}

export function drivenLobby(
  overrides: Partial<LobbySettings> = {},
  restartPolicy: RestartPolicy = NO_RESTARTS,
  particleBudget?: number,
): DrivenLobby {
  const clock = new FakeClock();
  const host = new InlineLobbyHost({
    clock,
    frameRing: 8,
    cloneMessages: true,
    restartPolicy,
    particleBudget,
  });
  const spawned = host.spawn(lobbySettings(overrides));
  if (!spawned.ok) throw new Error(spawned.message);
  const { handle } = spawned;
  const frames: FrameEvent[] = [];
  handle.frames.onSend((_seq, frame) => frames.push(frame));
  const notices: LobbyNotice[] = [];
  handle.onNotice((notice) => notices.push(notice));
  const ticks = (n: number) => {
    const target = frames.length + n;
    for (let guard = 0; frames.length < target && guard < n * 40; guard++) clock.advance(1);
    expect(frames.length).toBe(target);
  };
  return { clock, host, handle, frames, notices, ticks };
}

/** A frame's quantized positions as bytes, for exact comparison. */
export const bytesOf = (frame: FrameEvent): Buffer =>
  Buffer.from(frame.positions.buffer, frame.positions.byteOffset, frame.positions.byteLength);
