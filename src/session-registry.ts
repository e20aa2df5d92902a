/**
 * The game sockets of this instance: who is connected from where, the caps
 * on both (a total and per client address), and the heartbeat that finds
 * dead peers. A socket counts from its upgrade until its close event.
 *
 * Caps are checked twice: before the upgrade (`admits`, so a refusal is a
 * plain 503 and costs no WebSocket) and again when the socket opens
 * (`register`), because many upgrades can be in flight at once and the
 * first check does not reserve. So the caps hold exactly; a socket that
 * slipped through the first check is closed with 1013.
 */
import type { ClientSession } from './client-session.js';

export type SocketCap = 'total' | 'per_ip';

export class SessionRegistry {
  #maxTotal: number;
  #maxPerIp: number;
  #heartbeatMs: number;
  #total = 0;
  #byIp = new Map<string, number>();
  #sessions = new Set<ClientSession>();
  #timer: NodeJS.Timeout | undefined;

  constructor(limits: { maxSockets: number; maxSocketsPerIp: number; heartbeatMs: number }) {
    this.#maxTotal = limits.maxSockets;
    this.#maxPerIp = limits.maxSocketsPerIp;
    this.#heartbeatMs = limits.heartbeatMs;
  }

  get size(): number {
    return this.#total;
  }

  /** The cap one more socket from `ip` would break, if any. */
  admits(ip: string): SocketCap | undefined {
    if (this.#total >= this.#maxTotal) return 'total';
    if ((this.#byIp.get(ip) ?? 0) >= this.#maxPerIp) return 'per_ip';
    return undefined;
  }

  /** Counts an opened socket, or says which cap it breaks (it is then not counted). */
  register(ip: string): SocketCap | undefined {
    const over = this.admits(ip);
    if (over) return over;
    this.#total++;
    this.#byIp.set(ip, (this.#byIp.get(ip) ?? 0) + 1);
    return undefined;
  }

  /** Puts a registered socket's session under the heartbeat. */
  track(session: ClientSession): void {
    this.#sessions.add(session);
  }

  /** Forgets a registered socket when it has closed. */
  release(ip: string, session: ClientSession | undefined): void {
    if (session) this.#sessions.delete(session);
    this.#total--;
    const left = (this.#byIp.get(ip) ?? 1) - 1;
    if (left > 0) this.#byIp.set(ip, left);
    else this.#byIp.delete(ip);
  }

  /** One timer for every session: each is pinged, or cut if it went silent. */
  startHeartbeat(): void {
    this.#timer = setInterval(() => {
      for (const session of this.#sessions) session.heartbeat();
    }, this.#heartbeatMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
