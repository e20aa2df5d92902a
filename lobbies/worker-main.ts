/**
 * The entry point of a lobby worker thread: runs the lobbies the pool
 * places here on the precise clock, applies command batches, and posts each
 * event back (frames with their positions buffer transferred). A throwing
 * lobby is reported as that lobby's failure; the worker carries on.
 */
import { parentPort } from 'node:worker_threads';
import { Lobby } from './lobby.js';
import { describeError } from './lobby-machine.js';
import type { LobbyEvent } from './lobby-messages.js';
import { createPreciseClock } from './precise-clock.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('worker-main.ts runs only as a worker thread');

const clock = createPreciseClock();
const lobbies = new Map<string, Lobby>();

function post(lobbyId: string, event: LobbyEvent): void {
  const message: FromWorker = { type: 'event', lobbyId, event };
  if (event.type === 'frame') port!.postMessage(message, [event.positions.buffer as ArrayBuffer]);
  else port!.postMessage(message);
}

function fail(lobbyId: string, error: unknown): void {
  lobbies.get(lobbyId)?.stop();
  lobbies.delete(lobbyId);
  post(lobbyId, { type: 'failed', error: describeError(error) });
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'spawn': {
      const { id } = message.settings;
      try {
        const lobby = new Lobby(message.settings, (event) => post(id, event), clock);
        lobbies.set(id, lobby);
        lobby.start();
      } catch (error) {
        fail(id, error);
      }
      return;
    }
    case 'commands':
      for (const [lobbyId, command] of message.batch) {
        // A test-only fault that takes the whole worker down, as a crash would.
        if (command.type === 'fault' && command.kind === 'exit') process.exit(70);
        const lobby = lobbies.get(lobbyId);
        if (!lobby) continue;
        try {
          lobby.receive(command);
        } catch (error) {
          fail(lobbyId, error);
        }
      }
      return;
    case 'stop':
      lobbies.get(message.lobbyId)?.stop();
      lobbies.delete(message.lobbyId);
      return;
    case 'shutdown':
      for (const lobby of lobbies.values()) lobby.stop();
      lobbies.clear();
      port.close();
      return;
  }
});
