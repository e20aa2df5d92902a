/**
 * A well-behaved player in a lobby of its own, for attack tests: it must
 * keep receiving frames at close to the tick rate while someone else sends
 * hostile input. `expectUndisturbed` checks that the process still answers
 * /healthz and that the bystander got at least `minFps` frames per second
 * since `mark()` (or since it joined).
 */
import { expect } from 'vitest';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { joinLobby, type TestServer, waitFor } from './server.js';

/** What the issue asks of a bystander while an attack runs. */
export const BYSTANDER_MIN_FPS = 55;

export interface Bystander {
  client: LobbyClient;
  /** Starts a new measuring window. */
  mark(): void;
  /** Frames per second received since the last mark. */
  fps(): number;
  /** Process alive, bystander still joined and served at >= minFps since the mark. */
  expectUndisturbed(minFps?: number): Promise<void>;
  close(): void;
}

export async function joinBystander(server: TestServer, lobbyId = 'bystander'): Promise<Bystander> {
  const client = await joinLobby(server, lobbyId);
  expect(client.closeCode).toBeUndefined();
  await waitFor(() => client.frames > 2, 5000, 'bystander frames');
  let since = performance.now();
  let framesAtMark = client.frames;
  const fps = () => ((client.frames - framesAtMark) * 1000) / (performance.now() - since);
  return {
    client,
    mark() {
      since = performance.now();
      framesAtMark = client.frames;
    },
    fps,
    async expectUndisturbed(minFps = BYSTANDER_MIN_FPS) {
      // A window under a second says little about a rate: let it fill.
      const elapsed = performance.now() - since;
      if (elapsed < 1000) await new Promise((r) => setTimeout(r, 1000 - elapsed));
      const health = await fetch(`${server.http}/healthz`);
      expect(health.status).toBe(200);
      expect(client.closeCode).toBeUndefined();
      expect(fps()).toBeGreaterThanOrEqual(minFps);
    },
    close: () => client.close(),
  };
}
