/**
 * Sends batched per event-loop turn: the first write to a connection in a
 * turn corks its TCP socket, and one callback at the end of the turn uncorks
 * every socket corked in it. Whatever a turn sends to one client (a status,
 * its frame's two fragments, a reply) then leaves in one writev instead of
 * one system call each.
 */

/** What a batch needs of a socket: net.Socket's cork counter. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export class SendBatch {
  #held = new Set<Corkable>();

  /** Corks `socket` until the end of the current turn (once per turn). */
  hold(socket: Corkable): void {
    if (this.#held.has(socket)) return;
    if (this.#held.size === 0) process.nextTick(this.flush);
    this.#held.add(socket);
    socket.cork();
  }

  /**
   * Uncorks every held socket now: its writev happens here. The lobby's
   * fan-out calls it as its last step, so its timing includes the system
   * calls (at the end of the turn they would fall outside it); otherwise
   * it runs at the end of the turn.
   */
  readonly flush = (): void => {
    for (const socket of this.#held) socket.uncork();
    this.#held.clear();
  };

  /** Sockets held in this turn. */
  get size(): number {
    return this.#held.size;
  }
}
