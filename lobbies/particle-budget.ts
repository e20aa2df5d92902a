/**
 * The particle budget of one thread: how many particles all the lobbies that
 * run on it may hold together (SWARMHOST_PARTICLE_BUDGET). A tick's cost grows
 * with the particles stepped, and the lobbies of one thread tick one after
 * another, so this number is what keeps every lobby of the thread at 60 Hz.
 *
 * Owns the reservations, by lobby id: a lobby is admitted with its initial
 * particles (`tryReserve`, or `hold` where another thread already admitted
 * it), grows by spawns only within the limit (`tryGrow`), keeps its
 * reservation while paused or restarting, and gives it back when it ends
 * (`release`). One instance per worker thread, shared by its lobbies; one on
 * the main thread for the inline host.
 */
export class ParticleBudget {
  readonly limit: number;
  #held = new Map<string, number>();
  #used = 0;

  constructor(limit: number) {
    if (!(limit >= 0)) throw new RangeError(`a particle budget must be >= 0, got ${limit}`);
    this.limit = limit;
  }

  /** Particles reserved by every lobby of the thread. */
  get used(): number {
    return this.#used;
  }

  /** Particles still free (0 when over the limit). */
  get free(): number {
    return Math.max(0, this.limit - this.#used);
  }

  /** Lobbies holding a reservation. */
  get lobbies(): number {
    return this.#held.size;
  }

  /** What `id` holds (0 if nothing). */
  held(id: string): number {
    return this.#held.get(id) ?? 0;
  }

  /** Admission of a new lobby: reserves `particles` if they fit; nothing and false if not, or if `id` holds a reservation already. */
  tryReserve(id: string, particles: number): boolean {
    checkCount(particles);
    if (this.#held.has(id) || this.#used + particles > this.limit) return false;
    this.#set(id, particles);
    return true;
  }

  /**
   * Sets `id`'s reservation to `particles` whether or not it fits: a lobby
   * that was admitted already (by the main thread's placement), or one
   * restarted from its seed, which goes back to its initial particles.
   */
  hold(id: string, particles: number): void {
    checkCount(particles);
    this.#set(id, particles);
  }

  /** A spawn: grows `id`'s reservation by `particles` if the thread's total stays within the limit. */
  tryGrow(id: string, particles: number): boolean {
    checkCount(particles);
    if (this.#used + particles > this.limit) return false;
    this.#set(id, this.held(id) + particles);
    return true;
  }

  /** The lobby has ended: its particles are free again. */
  release(id: string): void {
    this.#used -= this.held(id);
    this.#held.delete(id);
  }

  #set(id: string, particles: number): void {
    this.#used += particles - this.held(id);
    this.#held.set(id, particles);
  }
}

/** A count that is not a whole number is a bug upstream: fail loudly, never corrupt the sum. */
function checkCount(particles: number): void {
  if (!Number.isInteger(particles) || particles < 0)
    throw new RangeError(`a particle count must be a non-negative integer, got ${particles}`);
}
