/**
 * Messages between the main thread and a lobby worker. Commands travel in
 * batches (one postMessage per event-loop turn, however many inputs arrived);
 * frames travel one per tick with their positions buffer transferred, not
 * copied.
 */
import type { LobbyCommand, LobbyEvent, LobbySettings } from './lobby-messages.js';

export type ToWorker =
  | { type: 'spawn'; settings: LobbySettings }
  | { type: 'commands'; batch: Array<[lobbyId: string, command: LobbyCommand]> }
  | { type: 'stop'; lobbyId: string }
  | { type: 'shutdown' };

export type FromWorker = { type: 'event'; lobbyId: string; event: LobbyEvent };
